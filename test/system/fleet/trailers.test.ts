// Who changed what, end to end on a local master: push, rollback and daemon commits carry
// their Pacha-* trailers and `pacha log` shows them; after the daemon beat, `pacha fleet` on
// the master says ok and exits 0. A key enrolled through the gate is told it cannot see the
// fleet.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startDaemon } from '../daemon/helpers/daemon-process.js';
import { makeWorld } from '../../helpers/world.js';

const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

test('push, rollback and daemon commits carry instance, boot, origin (and the user for commands); log shows them; fleet says ok, exit 0', async () => {
  const world = await makeWorld({ ssh: false, host: 'alpha' });
  const etc = path.join(world.root, 'etc');
  mkdirSync(etc);
  writeFileSync(path.join(etc, 'app.conf'), 'v1\n');
  mkdirSync(world.stateDir, { mode: 0o700 });
  writeFileSync(path.join(world.stateDir, 'boot-settings.json'), JSON.stringify({ version: 1, written: new Date().toISOString(), values: [], instance: 'i-0alpha' }));
  world.writeConfig([`pacha.watch = ${etc}`, 'pacha.log.level = debug']);
  assert.equal((await world.pacha(['watch', etc], { SUDO_USER: 'alice' })).code, 0);
  writeFileSync(path.join(etc, 'app.conf'), 'v2\n');
  const pushed = await world.pacha(['push'], { SUDO_USER: 'alice' });
  assert.equal(pushed.code, 0, pushed.stderr);
  const first = execFileSync('git', ['-C', path.join(world.masterDir, 'alpha', 'etc'), 'rev-list', '--max-parents=0', 'main']).toString().trim();
  const rolled = await world.pacha(['rollback', etc, '--to', first], { LOGNAME: 'bob' });
  assert.equal(rolled.code, 0, rolled.stderr);

  const daemon = startDaemon(world.config);
  await daemon.waitFor(/watching /);
  writeFileSync(path.join(etc, 'app.conf'), 'v3\n');
  await daemon.waitFor(/pushed .*etc/);
  await daemon.waitFor(/heartbeat of .*etc sent/);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);

  const log = await world.pacha(['log', etc, '--json']);
  const commits = JSON.parse(log.stdout).commits as Array<{ subject: string; by: Record<string, string> }>;
  // The daemon's write may land as one commit or, on a loaded machine, two (truncate, then write).
  const bys = commits.map((c) => c.by);
  while (bys.length > 4 && bys[1]?.origin === 'daemon') bys.shift();
  assert.deepEqual(bys, [
    { instance: 'i-0alpha', boot: bootId, origin: 'daemon' },
    { instance: 'i-0alpha', boot: bootId, origin: 'rollback', user: 'bob' },
    { instance: 'i-0alpha', boot: bootId, origin: 'push', user: 'alice' },
    { instance: 'i-0alpha', boot: bootId, origin: 'watch', user: 'alice' },
  ]);
  const human = await world.pacha(['log', etc]);
  assert.match(human.stdout, new RegExp(`^    by rollback, instance i-0alpha, boot ${bootId.slice(0, 8)}, user bob$`, 'm'));
  // On the master, the same trailers.
  const onMaster = execFileSync('git', ['-C', path.join(world.masterDir, 'alpha', 'etc'), 'log', '--format=%(trailers:key=Pacha-Origin,valueonly)', 'main']).toString();
  assert.deepEqual(onMaster.split('\n').filter(Boolean).slice(-4), ['daemon', 'rollback', 'push', 'watch']);

  const fleet = await world.pacha(['fleet', '--json']);
  assert.equal(fleet.code, 0, fleet.stderr);
  const doc = JSON.parse(fleet.stdout);
  assert.equal(doc.ok, true);
  assert.deepEqual(doc.hosts.map((h: { host: string; state: string; instance: string }) => [h.host, h.state, h.instance]), [['alpha', 'ok', 'i-0alpha']]);
});

test("through the gate: the daemon's heartbeat reaches the master; fleet with that key is refused, saying why and what to do (exit 2)", async () => {
  const world = await makeWorld({ ssh: true, gate: true, host: 'alpha' });
  const etc = path.join(world.root, 'etc');
  mkdirSync(etc);
  writeFileSync(path.join(etc, 'app.conf'), 'v1\n');
  world.writeConfig([`pacha.watch = ${etc}`, 'pacha.log.level = debug']);
  const daemon = startDaemon(world.config);
  await daemon.waitFor(/heartbeat of .*etc sent/, 60_000);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  const beat = execFileSync('git', ['-C', path.join(world.masterDir, 'alpha', 'etc'), 'log', '-1', '--format=%B', 'refs/pacha/heartbeat']).toString();
  assert.match(beat, new RegExp(`^pacha heartbeat of alpha\n\nPacha-Boot: ${bootId}\nPacha-Origin: daemon`));

  const result = await world.pacha(['fleet']);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /this key is enrolled through the master's gate \(pacha serve\), which serves one host's repositories and runs no shell; `pacha fleet` needs to read every host/);
  assert.match(result.stderr, /run it on the master itself \(pacha.host = local\)/);
});
