// Identity fencing for real (a real sshd master, the CLI): two instances booting as one host
// name, the second refused naming the first; --take-over claims it and the history says so;
// then the first is the one refused. pacha.boot.new_host = refuse turns a typo into an error.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { makeWorld, type World } from '../../helpers/world.js';
import { configBlock, makeInstance, type Instance } from '../../helpers/boot-instance.js';

let world: World;
let app: string;

before(async () => {
  world = await makeWorld({ ssh: true });
  app = path.join(world.root, 'etc/app');
  mkdirSync(app, { recursive: true });
  writeFileSync(path.join(app, 'app.ini'), 'port = 1\n');
});

/** An instance of the image with its own instance id, booting as `hostname`. */
function instance(id: string, hostname: string, extra: string[] = []): Instance {
  const i = makeInstance({ sshd: world.sshd!, hostsPath: world.masterDir, extra: [`pacha.watch = ${app}`, ...extra] });
  const key = readFileSync(world.sshd!.clientKey, 'utf8').trim().split('\n').map((l) => `  ${l}`).join('\n');
  i.writeUserData(`hostname: ${hostname}\n${configBlock(i.masterLines)}\nssh_key: |\n${key}\nmaster_host_key: ${world.sshd!.hostKey}`);
  writeFileSync(i.instanceData, JSON.stringify({ v1: { instance_id: id, local_hostname: `ip-${id}` } }));
  return i;
}

const masterGit = (...args: string[]): string => execFileSync('git', ['-C', path.join(world.masterDir, 'web1', 'app'), ...args], { encoding: 'utf8' }).trim();

describe('two instances, one host name', { concurrency: false }, () => {
  let first: Instance;
  let second: Instance;

  test('the first boots as a new host and is recorded as the holder (its heartbeat names it)', async () => {
    first = instance('i-0first', 'web1');
    const r = await first.boot(['--no-watch']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(first.report().decision?.action, 'new-host');
    const claim = first.report().steps.find((s) => s.step === 'claim');
    assert.equal(claim?.status, 'ok');
    assert.match(claim!.detail, /held by i-0first/);
    assert.match(masterGit('log', '-1', '--format=%B', 'refs/pacha/heartbeat'), /^Pacha-Instance: i-0first$/m);
    assert.match(masterGit('log', '-1', '--format=%B', 'refs/pacha/heartbeat'), /^Pacha-Origin: boot$/m);
  });

  test('a second instance claiming the name while the first is live: exit 3 naming the holder and its last push; nothing touched', async () => {
    second = instance('i-0second', 'web1');
    const head = masterGit('rev-parse', 'main');
    const dry = await second.boot(['--dry-run']);
    assert.equal(dry.code, 3, dry.stderr);
    assert.match(dry.stdout + dry.stderr, /held by instance i-0first/);

    const r = await second.boot(['--no-watch']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /boot refused: web1 is held by instance i-0first, (last push|heartbeat) \d{4}-\d\d-\d\dT[\d:.]+Z \(.*\), within pacha.boot.fence/);
    assert.match(r.stderr, /pacha boot --take-over/);
    const report = second.report();
    assert.equal(report.exitCode, 3);
    assert.equal(report.error?.code, 'EFENCED');
    assert.equal(report.steps.find((s) => s.step === 'fence')?.status, 'error');
    assert.equal(report.decision, null, 'refused before deciding: no rebuild, no push');
    assert.equal(masterGit('rev-parse', 'main'), head);
    assert.ok(!existsSync(path.join(second.state, 'repos')), 'nothing tracked by the refused instance');
  });

  test('--take-over: the second rebuilds and holds the name; the history records who took it from whom', async () => {
    const r = await second.boot(['--no-watch', '--take-over']);
    assert.equal(r.code, 0, r.stderr);
    const report = second.report();
    assert.match(report.steps.find((s) => s.step === 'fence')!.detail, /^take-over: --take-over: web1 taken over from instance i-0first/);
    assert.equal(report.decision?.action, 'rebuild');
    const message = masterGit('log', '-1', '--format=%B', 'main');
    assert.match(message, /^pacha: instance i-0second took over web1 from instance i-0first/);
    assert.match(message, /^Pacha-Take-Over: i-0first$/m);
    assert.match(message, /^Pacha-Instance: i-0second$/m);
    assert.match(masterGit('log', '-1', '--format=%B', 'refs/pacha/heartbeat'), /^Pacha-Instance: i-0second$/m);
    const log = await second.pacha(['log', app]);
    assert.equal(log.code, 0, log.stderr);
    assert.match(log.stdout, /took over from i-0first/);
  });

  test('now the first one, rebooting, is the one refused; once the holder is silent longer than the fence it is clear again', async () => {
    const r = await first.boot(['--no-watch']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /held by instance i-0second/);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const aged = instance('i-0first', 'web1', ['pacha.boot.fence = 1']);
    const dry = await aged.boot(['--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /fence .*clear: web1 was held by instance i-0second, silent for \d+ s .*aged out/);

    // A plain rebuild (no take-over: nothing new to push) holds the name too, by its heartbeat.
    const r2 = await aged.boot(['--no-watch']);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(aged.report().decision?.action, 'rebuild');
    assert.match(aged.report().steps.find((s) => s.step === 'claim')!.detail, /held by i-0first/);
    assert.match(masterGit('log', '-1', '--format=%B', 'refs/pacha/heartbeat'), /^Pacha-Instance: i-0first$/m);
  });
});

describe('pacha.boot.new_host = refuse', () => {
  test('a typo in the host name is an error naming the nearest host, not a new host', async () => {
    const typo = instance('i-0typo', 'web-1', ['pacha.boot.new_host = refuse']);
    const r = await typo.boot(['--no-watch']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /has no host 'web-1', and pacha.boot.new_host = refuse/);
    assert.match(r.stderr, /did you mean 'web1'\?/);
    assert.equal(typo.report().error?.code, 'EUNKNOWNHOST');
    assert.ok(!existsSync(path.join(world.masterDir, 'web-1')), 'no host made on the master');
    // The same setting lets a known name through.
    const known = instance('i-0first', 'web1', ['pacha.boot.new_host = refuse']);
    const ok = await known.boot(['--dry-run']);
    assert.equal(ok.code, 0, ok.stderr);
  });
});

describe('through the gate (an enrolled key: upload-pack and receive-pack only)', { concurrency: false }, () => {
  test('the holder is read, the claim and the take-over are written, with no new verb', async () => {
    const gated = await makeWorld({ ssh: true, gate: true });
    const gatedApp = path.join(gated.root, 'etc/app');
    mkdirSync(gatedApp, { recursive: true });
    writeFileSync(path.join(gatedApp, 'app.ini'), 'port = 2\n');
    const on = (id: string): Instance => {
      const i = makeInstance({ sshd: gated.sshd!, hostsPath: gated.masterDir, extra: [`pacha.watch = ${gatedApp}`] });
      const key = readFileSync(gated.sshd!.clientKey, 'utf8').trim().split('\n').map((l) => `  ${l}`).join('\n');
      i.writeUserData(`hostname: bar\n${configBlock(i.masterLines)}\nssh_key: |\n${key}\nmaster_host_key: ${gated.sshd!.hostKey}`);
      writeFileSync(i.instanceData, JSON.stringify({ v1: { instance_id: id, local_hostname: `ip-${id}` } }));
      return i;
    };
    const repo = path.join(gated.masterDir, 'bar', 'app');
    const first = await on('i-0gated1').boot(['--no-watch']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(execFileSync('git', ['-C', repo, 'log', '-1', '--format=%B', 'refs/pacha/heartbeat'], { encoding: 'utf8' }), /^Pacha-Instance: i-0gated1$/m);
    const second = on('i-0gated2');
    const refused = await second.boot(['--no-watch']);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /held by instance i-0gated1/);
    const taken = await second.boot(['--no-watch', '--take-over']);
    assert.equal(taken.code, 0, taken.stderr);
    assert.match(execFileSync('git', ['-C', repo, 'log', '-1', '--format=%B', 'main'], { encoding: 'utf8' }), /^Pacha-Take-Over: i-0gated1$/m);
    assert.doesNotMatch(readFileSync(path.join(gated.dir, 'serve.log'), 'utf8'), /refused/, 'the gate refused nothing');
  });
});
