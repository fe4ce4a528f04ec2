#!/usr/bin/env node
// `npm test`: make sure the real parts the tests use are installed, build, run every test,
// and end with one closing line "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
process.chdir(root);

// Debian packages the tests drive for real, and the command each one provides.
const DEBIAN = {
  'openssh-server': '/usr/sbin/sshd',
  'openssh-client': '/usr/bin/ssh',
  git: '/usr/bin/git',
  'cloud-init': '/usr/bin/cloud-init',
  packer: '/usr/bin/packer',
  shellcheck: '/usr/bin/shellcheck',
  systemd: '/usr/bin/systemd-analyze',
  'inotify-tools': '/usr/bin/inotifywait',
  acl: '/usr/bin/getfacl',
  attr: '/usr/bin/getfattr',
  'libcap2-bin': '/usr/sbin/setcap',
  chromium: '/usr/bin/chromium',
};

function ensureDebianPackages() {
  const missing = Object.entries(DEBIAN).filter(([, bin]) => !existsSync(bin)).map(([pkg]) => pkg);
  if (missing.length === 0) return;
  const line = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    console.error(`The tests need Debian packages that are missing. As root, run:\n  apt-get update && ${line}`);
    process.exit(1);
  }
  console.log(`installing ${missing.join(' ')} (apt-get) …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], line.split(' ').slice(1)]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error(`apt-get ${args.join(' ')} failed (exit ${r.status})`);
      process.exit(1);
    }
  }
}

// moto_server (SSM, S3 and IAM on loopback) comes from Python, not Debian. The machine image
// has it; on a machine without it, install it with pip, or say exactly what is missing (the
// tests that need it then fail: they never skip).
function ensureMoto() {
  const found = () => spawnSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' }).status === 0;
  if (found()) return;
  console.log('installing moto[server] (pip) …');
  const pip = spawnSync('python3', ['-m', 'pip', 'install', '--quiet', 'moto[server]>=5.1,<6'], { stdio: 'inherit' });
  if (pip.status !== 0 || !found()) {
    console.error("moto_server is missing and pip could not install it: run `python3 -m pip install 'moto[server]>=5.1,<6'` (the SSM and S3 tests need it)");
  }
}

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

// A counts file left by an earlier run must never stand for this one (scripts/ci-summary.mjs
// counts a run without its file as failed).
if (process.env.PACHA_TEST_COUNTS) rmSync(process.env.PACHA_TEST_COUNTS, { force: true });
console.log(`node ${process.version}`);
ensureDebianPackages();
ensureMoto();
// The normal build (package.json): tsc's dist/, and the bundle the installed `pacha` runs.
const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.error('build failed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// `npm test -- test/config` runs only the tests under the paths given.
const selected = process.argv.slice(2);
const files = (selected.length ? selected : ['test']).flatMap((p) => (statSync(p).isDirectory() ? findTests(p) : [p]));
const run = spawnSync(
  process.execPath,
  [
    '--import', 'tsx',
    '--test',
    `--test-concurrency=${process.env.PACHA_TEST_CONCURRENCY ?? 3}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/summary-reporter.mjs', '--test-reporter-destination=stdout',
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
);
process.exit(run.status ?? 1);
