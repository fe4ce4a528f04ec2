// The daemon as a process against a real sshd master: signals, restarts, a master that
// goes away, divergence, a second daemon.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeWorld } from '../../helpers/world.js';
import { dropMasterConnections, startDaemon } from './helpers/daemon-process.js';
import { headOf, inSync, masterLog, readIn, until } from './helpers/master-view.js';

async function sshWorld(names = ['app']) {
  const world = await makeWorld({ ssh: true });
  const dirs = names.map((name) => {
    const dir = path.join(world.root, 'etc', name);
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 'sub/a.conf'), 'a = 0\n');
    return dir;
  });
  world.writeConfig([`pacha.watch = ${dirs[0]}`]);
  const repo = (name = 'app') => path.join(world.masterDir, 'bar', name);
  const gitDir = (name = 'app') => path.join(world.stateDir, 'repos', `${name}.git`);
  return { world, dirs, repo, gitDir };
}

const localLog = (gitDir: string) => execFileSync('git', ['--git-dir', gitDir, 'log', '--format=%s', 'main']).toString().trim().split('\n');

test('a second daemon is refused with the holder PID, exit 2; SIGTERM stops the first with exit 0', async () => {
  const { world, repo } = await sshWorld();
  const first = startDaemon(world.config);
  await first.waitFor(/pushed .*app/);
  const second = startDaemon(world.config);
  assert.equal(await second.exited, 2);
  assert.match(second.stderr(), new RegExp(`another pacha daemon \\(PID ${first.pid}\\) holds ${path.join(world.stateDir, 'daemon.lock')}`));
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  assert.match(first.stderr(), /daemon stopped/);
  assert.equal(readIn(repo(), 'sub/a.conf'), 'a = 0\n');
  const status = JSON.parse(readFileSync(path.join(world.stateDir, 'daemon.json'), 'utf8'));
  assert.ok(status.stopped);
  assert.equal(status.pid, first.pid);
});

test('a change made while the daemon was stopped arrives at the next start; logs carry no timestamps under journald', async () => {
  const { world, dirs, repo } = await sshWorld();
  let daemon = startDaemon(world.config);
  await daemon.waitFor(/pushed .*app/);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  writeFileSync(path.join(dirs[0]!, 'sub/a.conf'), 'a = offline\n');
  daemon = startDaemon(world.config, { JOURNAL_STREAM: '8:12345' });
  await until('the offline change on the master', () => readIn(repo(), 'sub/a.conf') === 'a = offline\n', 30_000);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  const lines = daemon.stderr().trim().split('\n');
  assert.ok(lines.length > 2);
  assert.ok(lines.every((l) => l.startsWith('pacha: ')), lines.join('\n'));
});

test('master stopped for a while, then started: every change arrives, in order', async () => {
  const { world, dirs, repo, gitDir } = await sshWorld();
  const daemon = startDaemon(world.config);
  await daemon.waitFor(/pushed .*app/);
  // The master goes down with its established sessions (the daemon's kept one among them).
  world.sshd!.dropSessions();
  await world.sshd!.stop();
  dropMasterConnections(world.stateDir);
  const file = path.join(dirs[0]!, 'sub/a.conf');
  for (let i = 1; i <= 3; i++) {
    writeFileSync(file, `a = ${i}\n`);
    await until(`local commit ${i}`, () => localLog(gitDir()).length === i + 1);
  }
  await daemon.waitFor(/push of .*app failed \(attempt 1\)/);
  await world.sshd!.start();
  await until('all commits on the master', () => inSync(gitDir(), repo()), 90_000);
  assert.deepEqual(masterLog(repo()), localLog(gitDir()));
  assert.equal(readIn(repo(), 'sub/a.conf'), 'a = 3\n');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});

test('SIGKILL during a burst, stale git lock left behind, then restart: nothing lost', async () => {
  const { world, dirs, repo, gitDir } = await sshWorld();
  let daemon = startDaemon(world.config);
  await daemon.waitFor(/pushed .*app/);
  const burst = path.join(dirs[0]!, 'burst');
  mkdirSync(burst);
  for (let i = 0; i < 300; i++) writeFileSync(path.join(burst, `f${i}`), `${i}\n`);
  await daemon.waitFor(/committed .*burst/);
  for (let i = 300; i < 600; i++) writeFileSync(path.join(burst, `f${i}`), `${i}\n`);
  daemon.child.kill('SIGKILL');
  await daemon.exited;
  for (let i = 600; i < 1000; i++) writeFileSync(path.join(burst, `f${i}`), `${i}\n`);
  writeFileSync(path.join(gitDir(), 'index.lock'), ''); // as a git killed mid-commit leaves it
  daemon = startDaemon(world.config);
  await daemon.waitFor(/removed stale git lock .*index\.lock/);
  await until('all 1,000 files on the master', () => inSync(gitDir(), repo()) && readIn(repo(), 'burst/f999') === '999\n', 60_000);
  for (const i of [0, 299, 300, 599, 600, 999]) assert.equal(readIn(repo(), `burst/f${i}`), `${i}\n`);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});

test('non-fast-forward: history saved on a divergence ref on the master, nothing forced, committing goes on', async () => {
  const { world, dirs, repo, gitDir } = await sshWorld();
  const daemon = startDaemon(world.config);
  await daemon.waitFor(/pushed .*app/);
  // An admin commits on the master directly.
  writeFileSync(path.join(repo(), 'admin.txt'), 'admin\n');
  execFileSync('git', ['-C', repo(), 'add', 'admin.txt']);
  execFileSync('git', ['-C', repo(), '-c', 'user.name=admin', '-c', 'user.email=admin@master', 'commit', '-q', '-m', 'admin edit']);
  const adminHead = headOf(repo());
  writeFileSync(path.join(dirs[0]!, 'sub/a.conf'), 'a = host\n');
  const loud = await daemon.waitFor(/DIVERGED/);
  assert.match(loud, /refs\/pacha\/diverged\/bar\//);
  assert.equal(headOf(repo()), adminHead, 'the master branch was not forced');
  const refs = execFileSync('git', ['-C', repo(), 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/pacha/diverged/']).toString().trim().split('\n');
  assert.equal(refs.length, 1);
  assert.equal(refs[0]!.split(' ')[1], headOf(gitDir()));
  const commits = localLog(gitDir()).length;
  writeFileSync(path.join(dirs[0]!, 'sub/a.conf'), 'a = host 2\n');
  await until('a local commit while diverged', () => localLog(gitDir()).length === commits + 1);
  assert.equal(headOf(repo()), adminHead);
  assert.equal((daemon.stderr().match(/DIVERGED/g) ?? []).length, 1, 'loud once');
  const status = JSON.parse(readFileSync(path.join(world.stateDir, 'daemon.json'), 'utf8'));
  assert.match(status.paths[dirs[0]!].diverged.ref, /^refs\/pacha\/diverged\/bar\//);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});

test('SIGHUP: a path added to pacha.watch is tracked and pushed', async () => {
  const { world, dirs, repo } = await sshWorld(['app', 'web']);
  const daemon = startDaemon(world.config);
  await daemon.waitFor(/pushed .*app/);
  world.writeConfig([`pacha.watch = ${dirs[0]},${dirs[1]}`]);
  daemon.child.kill('SIGHUP');
  await daemon.waitFor(/configuration reloaded: watching 2 paths/);
  await until('the new path on the master', () => readIn(repo('web'), 'sub/a.conf') === 'a = 0\n', 30_000);
  writeFileSync(path.join(dirs[1]!, 'sub/a.conf'), 'web = 1\n');
  await until('a change in the new path', () => readIn(repo('web'), 'sub/a.conf') === 'web = 1\n', 30_000);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});
