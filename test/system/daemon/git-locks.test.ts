import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { clearStaleGitLocks, decideLocks, findGitLocks } from '../../../src/daemon/git-locks.js';
import { tempDir } from '../../helpers/tmp.js';

function gitDir(): string {
  const dir = path.join(tempDir(), 'repo.git');
  const r = spawnSync('git', ['init', '-q', '--bare', dir]);
  assert.equal(r.status, 0);
  return dir;
}

/** Resolves once the child has printed its first line (it is running and set up). */
function running(child: ChildProcess): Promise<void> {
  after(() => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
  });
}

test('stale locks with no process behind them are removed', async () => {
  const dir = gitDir();
  mkdirSync(path.join(dir, 'refs/heads'), { recursive: true });
  for (const f of ['index.lock', 'HEAD.lock', 'refs/heads/main.lock']) writeFileSync(path.join(dir, f), '');
  assert.deepEqual(await findGitLocks(dir), ['HEAD.lock', 'index.lock', 'refs/heads/main.lock'].map((f) => path.join(dir, f)));
  const decision = await clearStaleGitLocks(dir);
  assert.equal(decision.remove.length, 3);
  assert.deepEqual(await findGitLocks(dir), []);
  // git can take HEAD.lock again
  const r = spawnSync('git', ['--git-dir', dir, 'symbolic-ref', 'HEAD', 'refs/heads/other'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('a lock held open by a live process is kept', async () => {
  const dir = gitDir();
  const lock = path.join(dir, 'index.lock');
  const holder = spawn('sh', ['-c', 'exec 3>"$0"; echo ready; exec sleep 60', lock], { stdio: ['ignore', 'pipe', 'inherit'] });
  await running(holder);
  const decision = await clearStaleGitLocks(dir);
  assert.deepEqual(decision.remove, []);
  assert.equal(decision.keep[0]?.pid, holder.pid);
  assert.equal(existsSync(lock), true);
});

test('a lock is kept while a git process works on that git dir, even with the file closed', async () => {
  const dir = gitDir();
  const lock = path.join(dir, 'HEAD.lock');
  writeFileSync(lock, '');
  // A real git, blocked reading stdin, with GIT_DIR pointing at the repository.
  const git = spawn('sh', ['-c', 'echo ready; exec git hash-object --stdin'], {
    env: { PATH: process.env.PATH, GIT_DIR: dir },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await running(git);
  const decision = await clearStaleGitLocks(dir);
  assert.deepEqual(decision.remove, []);
  assert.match(decision.keep[0]?.why ?? '', /git PID \d+ works on/);
  assert.equal(existsSync(lock), true);
  git.stdin!.end();
});

test('decideLocks: git at work on another git dir does not protect this one', () => {
  const locks = ['/s/repos/a.git/index.lock'];
  const decision = decideLocks('/s/repos/a.git', locks, [
    { pid: 10, argv: ['git', 'commit'], cwd: '/s/repos/b.git', openFiles: [], gitDirEnv: '/s/repos/b.git' },
    { pid: 11, argv: ['git', '--git-dir=/s/repos/ab.git', 'status'], cwd: '/', openFiles: [] },
    { pid: 12, argv: ['vim', '/etc/hosts'], cwd: '/s/repos/a.git', openFiles: [] },
  ]);
  assert.deepEqual(decision, { remove: locks, keep: [] });
  const byArg = decideLocks('/s/repos/a.git', locks, [{ pid: 13, argv: ['/usr/bin/git', '--git-dir', '/s/repos/a.git', 'gc'], cwd: '/', openFiles: [] }]);
  assert.deepEqual(byArg.remove, []);
});
