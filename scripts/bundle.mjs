#!/usr/bin/env node
// `npm run bundle`: the whole CLI as one ESM file, dist/pacha.mjs, that runs with only
// `node` installed (no node_modules): what packer/install.sh puts on an image.
//
//   node scripts/bundle.mjs [--entry src/cli/main.ts] [--outfile dist/pacha.mjs]
//
// Prints the output path and its size.
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

const { values } = parseArgs({
  options: {
    entry: { type: 'string', default: path.join(root, 'src', 'cli', 'main.ts') },
    outfile: { type: 'string', default: path.join(root, 'dist', 'pacha.mjs') },
  },
});

// Bundled CommonJS (ssh2, ini, simple-git's dependencies…) calls `require('crypto')` and
// friends and reads `__dirname` (ssh2's agent.js, at load time); an ESM file has neither,
// so the banner defines them for the bundle's own location. The aliases keep the banner's
// imports from clashing with names in the bundled code.
const BANNER = [
  '#!/usr/bin/env node',
  "import { createRequire as __pachaCreateRequire } from 'node:module';",
  "import { fileURLToPath as __pachaFileURLToPath } from 'node:url';",
  "import { dirname as __pachaDirname } from 'node:path';",
  'const require = __pachaCreateRequire(import.meta.url);',
  'const __filename = __pachaFileURLToPath(import.meta.url);',
  'const __dirname = __pachaDirname(__filename);',
].join('\n');

// ssh2's optional native parts. Both are loaded inside try/catch and ssh2 falls back to
// pure JavaScript without them, so they stay external: on an image they are absent and the
// `require` fails quietly, which is what ssh2 expects.
//  - cpu-features (lib/protocol/constants.js): only tunes the cipher preference order;
//  - ./crypto/build/Release/sshcrypto.node (lib/protocol/crypto.js): native ciphers.
const OPTIONAL_NATIVE = ['cpu-features'];
const optionalNativeAddons = {
  name: 'optional-native-addons',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, external: true }));
  },
};

const result = await build({
  entryPoints: [values.entry],
  outfile: values.outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  banner: { js: BANNER },
  external: OPTIONAL_NATIVE,
  plugins: [optionalNativeAddons],
  // Keep class and function names: error names (ConfigError …) are part of the output.
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});

const bytes = statSync(values.outfile).size;
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`${path.relative(process.cwd(), values.outfile) || values.outfile}: ${(bytes / 1024 / 1024).toFixed(2)} MiB (${bytes} bytes, ${inputs} inputs)`);
