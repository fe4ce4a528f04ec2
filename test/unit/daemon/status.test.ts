import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { acquireDaemonLock } from '../../../src/daemon/lock.js';
import { readDaemonState, StatusFile } from '../../../src/daemon/status.js';
import { tempDir } from '../../helpers/tmp.js';

test('daemon.json holds the last state of every path after a burst of updates', async () => {
  const state = tempDir();
  const status = new StatusFile(state, new Date('2026-01-02T03:04:05Z'));
  const writes = [];
  for (let i = 1; i <= 50; i++) {
    writes.push(status.update('/etc/app', { name: 'app', lastCommit: { sha: `sha${i}`, time: `t${i}`, changed: [`f${i}`] }, unpushed: i }));
  }
  writes.push(status.update('/opt/foo', { lastError: { message: 'master down', time: 't' } }));
  await Promise.all(writes);
  const onDisk = JSON.parse(readFileSync(status.file, 'utf8'));
  assert.equal(onDisk.pid, process.pid);
  assert.equal(onDisk.started, '2026-01-02T03:04:05.000Z');
  assert.deepEqual(onDisk.paths['/etc/app'].lastCommit, { sha: 'sha50', time: 't50', changed: ['f50'] });
  assert.equal(onDisk.paths['/etc/app'].unpushed, 50);
  assert.deepEqual(onDisk.paths['/opt/foo'], { name: 'foo', watching: 'inotify', unpushed: 0, lastError: { message: 'master down', time: 't' } });
  assert.equal(statSync(status.file).mode & 0o777, 0o600);
});

test('readDaemonState: running only while the lock is held; the last status stays readable', async () => {
  const state = tempDir();
  assert.deepEqual(await readDaemonState(state), { running: undefined, status: undefined });
  const lock = await acquireDaemonLock(state);
  const status = new StatusFile(state);
  await status.update('/etc/app', { unpushed: 2 });
  let read = await readDaemonState(state);
  assert.equal(read.running, process.pid);
  assert.equal(read.status?.paths['/etc/app']?.unpushed, 2);
  await status.markStopped();
  await lock.release();
  read = await readDaemonState(state);
  assert.equal(read.running, undefined);
  assert.ok(read.status?.stopped);
});
