import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { acquireDaemonLock, DaemonLockedError, parseLock, selfIdentity } from '../../../src/daemon/lock.js';
import { tempDir } from '../../helpers/tmp.js';

test('the lock holds the PID; a second taker is told who holds it, exit 2', async () => {
  const state = tempDir();
  const lock = await acquireDaemonLock(state);
  assert.equal(lock.file, path.join(state, 'daemon.lock'));
  assert.equal(parseLock(readFileSync(lock.file, 'utf8'))?.pid, process.pid);
  await assert.rejects(acquireDaemonLock(state), (error: unknown) => {
    assert.ok(error instanceof DaemonLockedError);
    assert.equal(error.exitCode, 2);
    assert.equal(error.message, `another pacha daemon (PID ${process.pid}) holds ${lock.file}`);
    return true;
  });
  await lock.release();
  assert.equal(existsSync(lock.file), false);
});

test('a lock left by a dead process is taken over', async () => {
  const state = tempDir();
  const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
  writeFileSync(path.join(state, 'daemon.lock'), `${dead}\n`);
  const lock = await acquireDaemonLock(state);
  assert.equal(parseLock(readFileSync(lock.file, 'utf8'))?.pid, process.pid);
  await lock.release();
});

test('a lock whose PID now belongs to another process (reboot, PID reuse) is taken over', async () => {
  const state = tempDir();
  const me = await selfIdentity();
  writeFileSync(path.join(state, 'daemon.lock'), `${me.pid}\n${me.boot} ${Number(me.start) - 1}\n`);
  const lock = await acquireDaemonLock(state);
  assert.equal(readFileSync(lock.file, 'utf8'), `${me.pid}\n${me.boot} ${me.start}\n`);
  await lock.release();
});

test('a lock held by another live process is respected', async () => {
  const state = tempDir();
  const child = spawn('sleep', ['30']);
  try {
    writeFileSync(path.join(state, 'daemon.lock'), `${child.pid}\n`);
    await assert.rejects(acquireDaemonLock(state), new RegExp(`PID ${child.pid}\\) holds`));
    assert.equal(readFileSync(path.join(state, 'daemon.lock'), 'utf8'), `${child.pid}\n`);
  } finally {
    child.kill();
  }
});

test('release leaves alone a lock that is no longer ours', async () => {
  const state = tempDir();
  const lock = await acquireDaemonLock(state);
  writeFileSync(lock.file, '1\n');
  await lock.release();
  assert.equal(readFileSync(lock.file, 'utf8'), '1\n');
});

test('two takers racing for one stale lock: exactly one wins', async () => {
  const state = tempDir();
  writeFileSync(path.join(state, 'daemon.lock'), '999999999\n');
  const results = await Promise.allSettled([acquireDaemonLock(state), acquireDaemonLock(state), acquireDaemonLock(state)]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  assert.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof DaemonLockedError));
});
