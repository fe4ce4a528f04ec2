// The daemon keeps one OpenSSH connection to the master for its whole life (ControlPersist=yes).
// When the master's sshd is killed with its sessions and started again, that connection is
// dead: the next edit must still reach the master, on a new connection, without a failed
// push attempt (a dead control socket is not a master that is down).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeWorld } from '../../helpers/world.js';
import { startDaemon } from './helpers/daemon-process.js';
import { readIn, until } from './helpers/master-view.js';

const controlSockets = (stateDir: string) => readdirSync(path.join(stateDir, 'ssh')).filter((n) => n.startsWith('cm-'));

test('sshd killed with its sessions and restarted: the next edit reaches the master on a new connection, no failed push', async () => {
  const world = await makeWorld({ ssh: true });
  const dir = path.join(world.root, 'etc', 'app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a.conf'), 'a = 0\n');
  world.writeConfig([`pacha.watch = ${dir}`]);
  const repo = path.join(world.masterDir, 'bar', 'app');

  const daemon = startDaemon(world.config);
  await daemon.waitFor(/pushed .*app/);
  writeFileSync(path.join(dir, 'a.conf'), 'a = 1\n');
  await until('edit 1 on the master', () => readIn(repo, 'a.conf') === 'a = 1\n', 30_000);
  // The master's copy shows the edit before the daemon has the master's answer: killing sshd in
  // between would fail that push, rightly. Wait for the daemon to count it pushed.
  const pushes = () => daemon.stderr().match(/: pushed /g)?.length ?? 0;
  await until('edit 1 acknowledged by the master', () => pushes() >= 2, 30_000);
  assert.equal(controlSockets(world.stateDir).length, 1, 'the daemon keeps a shared connection');

  assert.ok(world.sshd!.dropSessions() > 0, 'no established session to kill');
  await world.sshd!.stop();
  await world.sshd!.start();
  // The kept connection saw its session die; whatever it left behind, the next push must cope.
  writeFileSync(path.join(dir, 'a.conf'), 'a = 2\n');
  await until('edit 2 on the master after the restart', () => readIn(repo, 'a.conf') === 'a = 2\n', 30_000);
  writeFileSync(path.join(dir, 'a.conf'), 'a = 3\n');
  await until('edit 3 on the master', () => readIn(repo, 'a.conf') === 'a = 3\n', 30_000);
  assert.doesNotMatch(daemon.stderr(), /push of .*failed/, daemon.stderr());
  // Edits now travel on the daemon's kept session (master/fast-update.ts), not through git's
  // shared OpenSSH connection: that one is opened again only when git pushes (a first push,
  // a heartbeat, a fallback), and never leaves a second socket beside a dead one.
  assert.ok(controlSockets(world.stateDir).length <= 1, 'no dead shared connection left beside a new one');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.deepEqual(controlSockets(world.stateDir), [], 'the daemon closes its connection when it stops');
});
