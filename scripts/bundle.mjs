#!/usr/bin/env node
// `npm run bundle`: the whole CLI as one ESM file, dist/pacha.mjs, that runs with only
// `node` installed (no node_modules): what packer/install.sh puts on an image.
//
//   node scripts/bundle.mjs [--entry src/cli/main.ts] [--outfile dist/pacha.mjs]
//
// `--split` (part of `npm run build`): the CLI as an entry, dist/bundle/bin.js (src/cli/bin.ts,
// package.json's "bin"), and the code of each command in dist/bundle/chunks/, loaded only
// when that command runs: `pacha status` reads some 37 small files where the tsc build has
// Node resolve and load some 55 modules (issue 14, target 5; bench/status.bench.ts). Node's
// loader, not pacha's code, is most of a short command's time. Unlike the one file, it runs
// beside node_modules: it imports the larger dependencies from there (below).
//
//   node scripts/bundle.mjs --split [--entry src/cli/bin.ts] [--outdir dist/bundle]
//
// Prints the output path and its size.
import { readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

const { values } = parseArgs({
  options: {
    split: { type: 'boolean', default: false },
    entry: { type: 'string' },
    outfile: { type: 'string', default: path.join(root, 'dist', 'pacha.mjs') },
    outdir: { type: 'string', default: path.join(root, 'dist', 'bundle') },
  },
});
const entry = values.entry ?? path.join(root, 'src', 'cli', values.split ? 'bin.ts' : 'main.ts');

// Bundled CommonJS (ssh2 and its dependencies…) calls `require('crypto')` and
// friends and reads `__dirname` (ssh2's agent.js, at load time); an ESM file has neither,
// so the banner defines them for the bundle's own location. The aliases keep the banner's
// imports from clashing with names in the bundled code.
const HASHBANG = '#!/usr/bin/env node';
const BANNER = [
  HASHBANG,
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

// The split bundle defines no `require` (an ESM file has none): the bundled CommonJS
// dependencies (commander, ignore) get the builtins they require from process.getBuiltinModule
// (Node ≥ 20.16), pacha's own ESM imports of them stay imports. Commander requires
// child_process for its executable subcommands, which pacha has none of: it gets a `spawn` that
// loads child_process when called (issue 14, target 5: `pacha status` loads no child_process;
// the build fails if commander's use of it changes).
const builtinsForCommonJs = {
  name: 'builtins-for-commonjs',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      if (args.kind !== 'require-call' || !isBuiltin(args.path)) return undefined;
      const name = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
      const lazy = name === 'node:child_process' && /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer);
      return { path: lazy ? `${name}?spawn-on-use` : name, namespace: 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      const [name, lazy] = args.path.split('?');
      if (!lazy) return { contents: `module.exports = process.getBuiltinModule(${JSON.stringify(name)});`, loader: 'js' };
      return { contents: `exports.spawn = (...args) => process.getBuiltinModule(${JSON.stringify(name)}).spawn(...args);`, loader: 'js' };
    });
    b.onLoad({ filter: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const uses = new Set(source.match(/childProcess\.\w+/g));
      if (uses.size !== 1 || !uses.has('childProcess.spawn')) return { errors: [{ text: `commander uses ${[...uses].join(', ')} of child_process: builtins-for-commonjs gives it only spawn` }] };
      return undefined;
    });
  },
};

// One file, or (--split) an entry with its chunks beside it: ESM chunks are imported by
// relative URL, so the directory moves as a whole. The split bundle's files are .mjs (the
// entry is renamed bin.js below, package.json's "bin"): Node knows each chunk is ESM by its
// name, without looking for a package.json above it (three failed opens a chunk).
const layout = values.split
  ? { outdir: values.outdir, splitting: true, chunkNames: 'chunks/[name]-[hash]', entryNames: '[name]', outExtension: { '.js': '.mjs' } }
  : { outfile: values.outfile };

// The split bundle is what npm installs, beside pacha's dependencies: it takes in only the
// small ones every command loads (commander; ignore, for the store), which would otherwise
// cost a CommonJS load each, and imports the rest (ssh2 with its native parts, the AWS SDK,
// got, envalid, yaml) from node_modules, in the chunks of the commands that use them.
const BUNDLED_DEPENDENCIES = ['commander', 'ignore'];
const dependencies = Object.keys(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).dependencies);
const external = values.split ? [...OPTIONAL_NATIVE, ...dependencies.filter((name) => !BUNDLED_DEPENDENCIES.includes(name))] : OPTIONAL_NATIVE;

// Chunk names change with their contents: last build's would pile up beside this one's.
if (values.split) rmSync(path.join(values.outdir, 'chunks'), { recursive: true, force: true });

const result = await build({
  entryPoints: [entry],
  ...layout,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  banner: { js: values.split ? HASHBANG : BANNER },
  external,
  plugins: values.split ? [builtinsForCommonJs, inlineFilesReadBeside] : [optionalNativeAddons, inlineFilesReadBeside],
  // Keep class and function names: error names (ConfigError …) are part of the output.
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});

// package.json's "bin" names the entry bin.js; the chunks it imports keep their .mjs.
const entryOut = path.join(values.outdir, `${path.basename(entry, path.extname(entry))}.mjs`);
const outputName = (file) => (values.split && path.resolve(file) === path.resolve(entryOut) ? entryOut.replace(/\.mjs$/, '.js') : file);
if (values.split) {
  renameSync(entryOut, outputName(entryOut));
  // The split bundle defines no `require`, __dirname nor __filename (banner above): nothing may
  // use them (esbuild's shim for a `require` it could not resolve tests `typeof require`).
  for (const file of Object.keys(result.metafile.outputs).map(outputName)) {
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    if (/typeof require\b|\b__dirname\b|\b__filename\b/.test(code)) throw new Error(`${file} uses require, __dirname or __filename, which the split bundle does not define`);
  }
}
const outputs = Object.keys(result.metafile.outputs).map(outputName);
const bytes = outputs.reduce((sum, file) => sum + statSync(file).size, 0);
const inputs = Object.keys(result.metafile.inputs).length;
const where = values.split ? values.outdir : values.outfile;
const files = values.split ? `, ${outputs.length} files` : '';
console.log(`${path.relative(process.cwd(), where) || where}: ${(bytes / 1024 / 1024).toFixed(2)} MiB (${bytes} bytes${files}, ${inputs} inputs)`);
