// Boot on a bad day: SSM (moto_server) unreachable when boot starts. Reachable again within
// pacha.boot.timeout: boot completes. Never: exit 3 (unreachable), never exit 2.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startMoto } from '../helpers/moto.js';
import { freePort } from '../helpers/sshd.js';
import { makeWorld, type World } from '../helpers/world.js';
import { configBlock, makeInstance } from './instance.js';

let world: World;
before(async () => {
  world = await makeWorld({ ssh: true });
});

/** A loopback port that refuses connections until open() forwards it to `target`. */
function gate(port: number, target: number): { open(): Promise<void>; close(): void } {
  let server: Server | undefined;
  return {
    open: () =>
      new Promise((resolve) => {
        server = createServer((socket) => {
          const upstream = connect(target, '127.0.0.1');
          socket.pipe(upstream).pipe(socket);
          socket.on('error', () => upstream.destroy());
          upstream.on('error', () => socket.destroy());
        });
        server.listen(port, '127.0.0.1', () => resolve());
      }),
    close: () => server?.close(),
  };
}

function ssmInstance(endpoint: string, timeoutSeconds: number) {
  const instance = makeInstance({
    sshd: world.sshd!,
    hostsPath: world.masterDir,
    extra: [`pacha.boot.timeout = ${timeoutSeconds}`],
    env: { AWS_ENDPOINT_URL_SSM: endpoint, AWS_REGION: 'us-east-1' },
  });
  instance.writeUserData(`hostname: bar\nssm_path: /pacha/flaky\n${configBlock(instance.masterLines)}`);
  return instance;
}

test('SSM unreachable when boot starts, back within pacha.boot.timeout: boot waits and completes', async () => {
  const moto = await startMoto();
  await moto.put('/pacha/flaky/pacha.ssh.host_key', world.sshd!.hostKey);
  await moto.put('/pacha/flaky/hosts/bar/pacha.ssh.private_key', readFileSync(world.sshd!.clientKey, 'utf8'), 'SecureString');
  const port = await freePort();
  const door = gate(port, Number(new URL(moto.endpoint).port));
  after(() => door.close());
  const instance = ssmInstance(`http://127.0.0.1:${port}`, 60);
  const booting = instance.boot(['--no-watch']);
  await delay(4_000);
  await door.open();
  const r = await booting;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /SSM \(\/pacha\/flaky, region us-east-1\) not answering \(attempt 1: .*ECONNREFUSED/);
  const report = instance.report();
  const fleet = report.steps.find((s) => s.step === 'ssm-fleet');
  assert.equal(fleet?.status, 'ok');
  assert.ok(fleet!.durationMs >= 3_000, `the fleet step waited (${fleet!.durationMs} ms)`);
  assert.equal(report.decision?.action, 'new-host');
});

test('SSM never reachable: exit 3 once pacha.boot.timeout runs out, saying what it waited for', async () => {
  const instance = ssmInstance(`http://127.0.0.1:${await freePort()}`, 4);
  const started = Date.now();
  const r = await instance.boot(['--no-watch']);
  const took = Date.now() - started;
  assert.equal(r.code, 3, r.stderr);
  assert.ok(took >= 4_000 && took < 20_000, `gave up after ${took} ms`);
  assert.match(r.stderr, /SSM \(\/pacha\/flaky, region us-east-1\) did not answer within 4 s \(pacha\.boot\.timeout, \d+ attempts\); last error: .*unreachable \(ECONNREFUSED\)/);
  const report = instance.report();
  assert.equal(report.exitCode, 3);
  assert.equal(report.error?.code, 'ESSMUNREACHABLE');
});
