// `npm run demo`: the seed's crash story, end to end, against a local master in a temporary
// directory. Host `bar` tracks /opt/foo (under the demo's directory), pushes it, dies, and
// `pacha --rebuild bar` brings it back; the demo then checks every entry came back exactly.
// It runs the real CLI, step by step, and prints each command as it runs it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HookPhase } from '../hooks/types.js';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');
const keep = process.argv.includes('--keep');
const dir = mkdtempSync(path.join(os.tmpdir(), 'pacha-demo-'));
const master = path.join(dir, 'pacha/hosts');
const foo = path.join(dir, 'bar/opt/foo');
const config = path.join(dir, 'pacha.conf');

function step(title: string): void {
  process.stdout.write(`\n\x1b[1m== ${title}\x1b[0m\n`);
}

function pacha(...args: string[]): void {
  process.stdout.write(`$ pacha ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [cli, '-c', config, ...args], { stdio: 'inherit', env: { PATH: process.env.PATH, HOME: os.homedir() } });
  if (result.status !== 0) {
    process.stderr.write(`demo: \`pacha ${args.join(' ')}\` exited ${result.status}; the demo's files are in ${dir}\n`);
    process.exit(1);
  }
}

/** Type, mode, owner, content hash or link target of every entry. */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (rel: string): void => {
    const abs = path.join(root, rel);
    const st = lstatSync(abs);
    const what = st.isSymbolicLink()
      ? `link -> ${readlinkSync(abs)}`
      : st.isFile()
        ? `file ${createHash('sha256').update(readFileSync(abs)).digest('hex').slice(0, 12)}`
        : 'dir';
    out.set(rel || '.', `${what} mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')} owner ${st.uid}:${st.gid}`);
    if (st.isDirectory()) for (const name of readdirSync(abs).sort()) visit(path.join(rel, name));
  };
  visit('');
  return out;
}

function hook(phase: HookPhase, name: string, body: string): void {
  const hooks = path.join(master, 'bar', `pacha_${phase}`);
  mkdirSync(hooks, { recursive: true });
  writeFileSync(path.join(hooks, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

try {
  step(`Host bar has a very important directory ${foo}`);
  mkdirSync(path.join(foo, 'conf.d'), { recursive: true });
  mkdirSync(path.join(foo, 'spool'));
  mkdirSync(path.join(foo, 'empty'));
  writeFileSync(path.join(foo, 'foo.conf'), 'listen = 80\nworkers = 4\n');
  writeFileSync(path.join(foo, 'conf.d/tls.conf'), 'cert = /etc/ssl/foo.pem\n');
  writeFileSync(path.join(foo, 'secret.key'), 'not really a key\n', { mode: 0o600 });
  writeFileSync(path.join(foo, 'reload.sh'), '#!/bin/sh\nkill -HUP "$(cat /run/foo.pid)"\n', { mode: 0o755 });
  chmodSync(path.join(foo, 'spool'), 0o1777);
  symlinkSync('foo.conf', path.join(foo, 'current.conf'));
  symlinkSync('/var/log/foo', path.join(foo, 'logs'));
  if (process.getuid?.() === 0) spawnSync('chown', ['nobody', path.join(foo, 'conf.d/tls.conf')]);
  writeFileSync(
    config,
    ['[DEFAULT]', 'pacha.frequency = 12', 'pacha.host = local', `pacha.hosts.path = ${master}`, 'pacha.hostname = bar', `pacha.state.path = ${path.join(dir, 'bar/var/lib/pacha')}`, ''].join('\n'),
  );
  mkdirSync(master, { recursive: true });
  process.stdout.write(`config ${config}: the master is the local directory ${master}\n`);
  pacha('--add-host', 'bar');
  hook('pre', '10-packages', 'echo "installing foo\'s packages before its files come back (PACHA_ROOT=$PACHA_ROOT)"');
  hook('post', '90-notify', 'echo "bar is back: telling the on-call"');

  step('Track it: the first commit is pushed to the master');
  pacha('--watch', foo);
  process.stdout.write(`the master's copy: ${path.join(master, 'bar/foo')}: ${readdirSync(path.join(master, 'bar/foo')).filter((n) => n !== '.git').join(' ')}\n`);

  step('A change: edit a file, tighten a mode, and push');
  writeFileSync(path.join(foo, 'foo.conf'), 'listen = 80\nworkers = 8\n');
  chmodSync(path.join(foo, 'reload.sh'), 0o750);
  pacha('push');
  const before = snapshot(foo);

  step('Bar dies: /opt/foo and pacha\'s own state are gone');
  rmSync(foo, { recursive: true, force: true });
  rmSync(path.join(dir, 'bar/var/lib/pacha'), { recursive: true, force: true });
  process.stdout.write(`rm -rf ${foo} ${path.join(dir, 'bar/var/lib/pacha')}\n`);

  step('Rebuild bar from the master');
  pacha('rebuild', 'bar', '--dry-run');
  pacha('--rebuild', 'bar', '--yes');

  step('Verify: every entry, its content, mode, owner and symlink target');
  const after = snapshot(foo);
  const wrong = [...before].filter(([rel, facts]) => after.get(rel) !== facts).map(([rel]) => rel);
  const extra = [...after.keys()].filter((rel) => !before.has(rel));
  for (const [rel, facts] of before) process.stdout.write(`  ${wrong.includes(rel) ? '✗' : '✓'} ${rel.padEnd(18)} ${facts}\n`);
  if (wrong.length || extra.length) {
    process.stderr.write(`demo: FAILED: differs: ${[...wrong, ...extra].join(', ')}\n`);
    process.exit(1);
  }
  process.stdout.write(`\n${before.size} entries restored exactly. A second rebuild writes nothing:\n`);
  pacha('rebuild', 'bar', '--yes');
  step('And bar keeps pushing to the same history');
  writeFileSync(path.join(foo, 'foo.conf'), 'listen = 443\nworkers = 8\n');
  pacha('push');
  pacha('status');
} finally {
  if (keep) process.stdout.write(`\nthe demo's files are kept in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}
