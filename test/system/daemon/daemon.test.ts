// The daemon in this process against a real git master in a local directory
// (standalone mode): every kind of change reaches the master's working copy.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadSettings } from '../../../src/config/load.js';
import { runDaemon } from '../../../src/daemon/daemon.js';
import { LocalMaster } from '../../../src/master/local-master.js';
import { Store } from '../../../src/store/store.js';
import { tempDir } from '../../helpers/tmp.js';
import { inSync, linkIn, masterLog, masterMetadata, masterRepo, readIn, until } from './helpers/master-view.js';

async function world(extra: string[] = []) {
  const dir = tempDir('pacha-daemon-');
  const etc = path.join(dir, 'host/etc/app');
  const masterDir = path.join(dir, 'master');
  const stateDir = path.join(dir, 'state');
  mkdirSync(path.join(etc, 'sub/deep'), { recursive: true });
  mkdirSync(masterDir);
  writeFileSync(path.join(etc, 'sub/deep/a.conf'), 'a = 1\n');
  writeFileSync(path.join(etc, 'top.conf'), 'top = 1\n');
  symlinkSync('top.conf', path.join(etc, 'link'));
  const config = path.join(dir, 'pacha.conf');
  writeFileSync(config, ['[DEFAULT]', 'pacha.hostname = bar', `pacha.hosts.path = ${masterDir}`, `pacha.state.path = ${stateDir}`, `pacha.watch = ${etc}`, ...extra, ''].join('\n'));
  const settings = await loadSettings({ configPath: config, env: {} });
  const store = await Store.open(stateDir, 'bar');
  const master = new LocalMaster(masterDir);
  const lines: string[] = [];
  const stop = new AbortController();
  let ready: () => void = () => undefined;
  const started = new Promise<void>((r) => (ready = r));
  const done = runDaemon({ settings, store, master, handleSignals: false, signal: stop.signal, log: (l, m) => lines.push(`${l}: ${m}`), onReady: ready });
  after(async () => {
    stop.abort();
    await done.catch(() => undefined);
  });
  await started;
  const repo = masterRepo(masterDir, 'bar', 'app');
  return { etc, repo, lines, stop, done, stateDir, gitDir: path.join(stateDir, 'repos/app.git') };
}

test('every kind of change reaches the master working copy', async () => {
  const w = await world();
  await until('first push', () => readIn(w.repo, 'sub/deep/a.conf') === 'a = 1\n' && inSync(w.gitDir, w.repo));
  const f = (rel: string) => path.join(w.etc, rel);
  const meta = (rel: string) => masterMetadata(w.repo)?.entries.find((e) => e.path === rel);

  writeFileSync(f('sub/deep/a.conf'), 'a = 2\n');
  await until('edit inside a file in a subdirectory', () => readIn(w.repo, 'sub/deep/a.conf') === 'a = 2\n');

  writeFileSync(f('new.conf'), 'new\n');
  mkdirSync(f('newdir/inner'), { recursive: true });
  writeFileSync(f('newdir/inner/x.conf'), 'x\n');
  await until('new file and new directory', () => readIn(w.repo, 'new.conf') === 'new\n' && readIn(w.repo, 'newdir/inner/x.conf') === 'x\n');

  writeFileSync(f('newdir/inner/x.conf'), 'x2\n'); // the new directory is watched
  await until('edit in the new directory', () => readIn(w.repo, 'newdir/inner/x.conf') === 'x2\n');

  renameSync(f('new.conf'), f('renamed.conf'));
  await until('rename', () => readIn(w.repo, 'renamed.conf') === 'new\n' && readIn(w.repo, 'new.conf') === undefined);

  unlinkSync(f('renamed.conf'));
  rmSync(f('newdir'), { recursive: true });
  await until('removed file and directory', () => readIn(w.repo, 'renamed.conf') === undefined && readIn(w.repo, 'newdir/inner/x.conf') === undefined);

  chmodSync(f('top.conf'), 0o600);
  await until('chmod alone', () => meta('top.conf')?.mode === 0o600);

  chownSync(f('top.conf'), 1, 1);
  await until('chown alone', () => meta('top.conf')?.user.id === 1 && meta('top.conf')?.group.id === 1);

  unlinkSync(f('link'));
  symlinkSync('sub/deep/a.conf', f('link'));
  await until('symlink retargeted', () => linkIn(w.repo, 'link') === 'sub/deep/a.conf');

  unlinkSync(f('link'));
  symlinkSync('/nonexistent/target', f('link'));
  await until('symlink retargeted, dangling', () => linkIn(w.repo, 'link') === '/nonexistent/target');

  await until('master and host in sync', () => inSync(w.gitDir, w.repo));
  const log = masterLog(w.repo);
  assert.ok(log.length >= 10, log.join('\n')); // one commit per step at least: none was lost or merged into another
  assert.ok(w.lines.some((l) => /^info: committed .*: link/.test(l)), w.lines.join('\n'));
});

test("editors' save patterns end as one clean commit", async () => {
  const w = await world();
  await until('first push', () => readIn(w.repo, 'top.conf') === 'top = 1\n' && inSync(w.gitDir, w.repo));
  const before = masterLog(w.repo).length;
  const target = path.join(w.etc, 'top.conf');
  // Write to a temporary file, then rename over the original (most editors).
  writeFileSync(path.join(w.etc, '.top.conf.swx'), 'swap');
  writeFileSync(path.join(w.etc, 'top.conf.tmp.1234'), 'top = 2\n');
  renameSync(path.join(w.etc, 'top.conf.tmp.1234'), target);
  unlinkSync(path.join(w.etc, '.top.conf.swx'));
  // vim with a backup: rename the original to top.conf~, write a new file, remove the backup.
  renameSync(target, `${target}~`);
  writeFileSync(target, 'top = 3\n');
  unlinkSync(`${target}~`);
  await until('the saved content', () => readIn(w.repo, 'top.conf') === 'top = 3\n');
  await until('master and host in sync', () => inSync(w.gitDir, w.repo));
  const log = masterLog(w.repo);
  assert.equal(log.length, before + 1, log.join('\n'));
  assert.doesNotMatch(log[0]!, /\.swx|\.tmp\.|~/);
  assert.match(log[0]!, /top\.conf/);
});

test('a 1,000-file burst reaches the master', async () => {
  const w = await world();
  await until('first push', () => readIn(w.repo, 'top.conf') === 'top = 1\n' && inSync(w.gitDir, w.repo));
  mkdirSync(path.join(w.etc, 'burst'));
  for (let i = 0; i < 1000; i++) writeFileSync(path.join(w.etc, 'burst', `f${i}.conf`), `n = ${i}\n`);
  await until('all 1,000 files', () => readIn(w.repo, 'burst/f999.conf') === 'n = 999\n' && readIn(w.repo, 'burst/f0.conf') === 'n = 0\n', 60_000);
  const files = masterMetadata(w.repo)!.entries.filter((e) => e.path.startsWith('burst/'));
  assert.equal(files.length, 1000);
});

test('stopping: pending events are committed and pushed, the lock released, the status says stopped', async () => {
  const w = await world(['pacha.push.delay = 60000', 'pacha.push.max_delay = 60000']);
  await until('first push', () => readIn(w.repo, 'top.conf') === 'top = 1\n');
  writeFileSync(path.join(w.etc, 'top.conf'), 'late\n');
  await until('the event was seen', () => w.lines.some((l) => /^debug: event: .*top\.conf$/.test(l))); // the commit waits for the 60 s delay
  w.stop.abort();
  await w.done;
  assert.equal(readIn(w.repo, 'top.conf'), 'late\n');
  const status = JSON.parse(readIn(w.stateDir, 'daemon.json')!);
  assert.ok(status.stopped);
  assert.equal(status.paths[w.etc].unpushed, 0);
  assert.equal(readIn(w.stateDir, 'daemon.lock'), undefined);
});
