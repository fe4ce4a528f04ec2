#!/usr/bin/env node
// `npm run bundle`: the whole CLI as one ESM file, dist/pacha.mjs, that runs with only
// `node` installed (no node_modules): what packer/install.sh puts on an image.
//
//   node scripts/bundle.mjs [--entry src/cli/main.ts] [--outfile dist/pacha.mjs]
//
// Prints the output path and its size.
import { readFileSync, statSync } from 'node:fs';
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

// Bundled CommonJS (ssh2 and its dependencies…) calls `require('crypto')` and
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

// pacha's sources read files beside themselves at run time (`package.json` for --version,
// via `new URL(rel, import.meta.url)`). In the bundle, installed as
// /usr/local/lib/pacha/pacha.mjs, those files are not there: inline the ones we know
// (a `readFileSync(new URL('…package.json', import.meta.url), 'utf8')` becomes the file's
// text) and refuse to build if any other run-time relative read remains, rather than ship
// a bundle that fails on the image.
const READ_BESIDE = /readFileSync\(\s*new URL\(\s*(['"])([^'"]+)\1\s*,\s*import\.meta\.url\s*\)\s*,\s*(['"])utf-?8\3\s*\)/g;
const inlineFilesReadBeside = {
  name: 'inline-files-read-beside',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
      // The banner supplies the one hashbang; esbuild would keep the entry's own as well.
      const source = readFileSync(args.path, 'utf8').replace(/^#!.*\n/, '');
      const errors = [];
      const contents = source.replace(READ_BESIDE, (call, _q, rel) => {
        const target = fileURLToPath(new URL(rel, `file://${args.path}`));
        if (path.basename(target) !== 'package.json') {
          errors.push({ text: `${rel} is read beside the source at run time; only package.json is inlined` });
          return call;
        }
        return JSON.stringify(readFileSync(target, 'utf8'));
      });
      // `/* own location */ import.meta.url` is a module that wants the file it runs from (the
      // S3 remote helper re-runs pacha's entry): in the bundle, the bundle itself is right.
      if (/import\.meta\.url/.test(contents.replace(/createRequire\(import\.meta\.url\)|\/\* own location \*\/ import\.meta\.url/g, ''))) {
        errors.push({ text: 'uses import.meta.url: in the bundle it is the bundle\'s own location, so files beside the source are not found' });
      }
      return errors.length ? { errors } : { contents, loader: 'ts' };
    });
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
  plugins: [optionalNativeAddons, inlineFilesReadBeside],
  // Keep class and function names: error names (ConfigError …) are part of the output.
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});

const bytes = statSync(values.outfile).size;
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`${path.relative(process.cwd(), values.outfile) || values.outfile}: ${(bytes / 1024 / 1024).toFixed(2)} MiB (${bytes} bytes, ${inputs} inputs)`);
