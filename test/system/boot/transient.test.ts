// Boot on a bad day: SSM (moto_server) unreachable when boot starts. Reachable again within
// pacha.boot.timeout: boot completes. Never: exit 3 (unreachable), never exit 2.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CLI } from '../../helpers/cli.js';
import { MOTO_ENV, startMoto } from '../../helpers/moto.js';
import { freePort } from '../../helpers/sshd.js';
import { makeWorld, type World } from '../../helpers/world.js';
import { configBlock, makeInstance } from '../../helpers/boot-instance.js';

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
  const instance = ssmInstance(`http://127.0.0.1:${port}`, 90);
  // Boot as a process, its stderr read as it comes: the gate opens once boot said it waits.
  const child = spawn(process.execPath, [CLI, '-c', instance.imageConfig, 'boot', '--no-watch', '--user-data', instance.userData, '--instance-data', instance.instanceData], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...MOTO_ENV, AWS_EC2_METADATA_DISABLED: 'true', PACHA_STATE_PATH: instance.state, AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${port}`, AWS_REGION: 'us-east-1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  for (let i = 0; i < 600 && !/not answering \(attempt 1/.test(stderr) && child.exitCode === null; i++) await delay(100);
  assert.match(stderr, /SSM \(\/pacha\/flaky, region us-east-1\) not answering \(attempt 1: .*ECONNREFUSED/);
  await delay(1_000);
  await door.open();
  assert.equal(await exited, 0, stderr);
  const report = instance.report();
  const fleet = report.steps.find((s) => s.step === 'ssm-fleet');
  assert.equal(fleet?.status, 'ok');
  assert.ok(fleet!.durationMs >= 1_000, `the fleet step waited (${fleet!.durationMs} ms)`);
  assert.equal(report.decision?.action, 'new-host');
});

test('SSM never reachable: exit 3 once pacha.boot.timeout runs out, saying what it waited for', async () => {
  const instance = ssmInstance(`http://127.0.0.1:${await freePort()}`, 4);
  const started = Date.now();
  const r = await instance.boot(['--no-watch']);
  const took = Date.now() - started;
  assert.equal(r.code, 3, r.stderr);
  assert.ok(took >= 4_000 && took < 20_000, `gave up after ${took} ms`);
  assert.match(r.stderr, /SSM \(\/pacha\/flaky, region us-east-1\) did not answer within 4 s \(pacha\.boot\.timeout, \d+ attempts?\); last error: .*unreachable \(ECONNREFUSED\)/);
  const report = instance.report();
  assert.equal(report.exitCode, 3);
  assert.equal(report.error?.code, 'ESSMUNREACHABLE');
});

test('a master that accepts TCP but never speaks SSH (sshd SIGSTOPped): boot waits, then exit 3, no crash', async () => {
  const instance = makeInstance({ sshd: world.sshd!, hostsPath: world.masterDir, extra: ['pacha.boot.timeout = 14', `pacha.ssh.key = ${world.sshd!.clientKey}`, `pacha.ssh.known_hosts = ${world.sshd!.knownHosts}`] });
  instance.writeUserData(`hostname: bar\n${configBlock(instance.masterLines)}`);
  world.sshd!.pause();
  let r;
  try {
    r = await instance.boot(['--no-watch']);
  } finally {
    world.sshd!.resume();
  }
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /did not answer within 14 s/);
  assert.doesNotMatch(r.stderr, /Unhandled|internal error/i);
  assert.equal(instance.report().exitCode, 3);
});
