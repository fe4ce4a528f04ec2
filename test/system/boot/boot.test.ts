// `pacha boot` for real: a master on a real sshd, SSM on moto_server, the metadata service on
// loopback (IMDSv2, token required). The seed's crash story told from the image's side:
// bar dies, a fresh instance with only user data (and its key in SSM) becomes bar again.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CLI } from '../../helpers/cli.js';
import { startImds, type ImdsServer } from '../../helpers/imds.js';
import { MOTO_ENV, startMoto } from '../../helpers/moto.js';
import { freePort } from '../../helpers/sshd.js';
import { inodes, makeAccount, makeRichTree, snapshot, writeHook } from '../../helpers/tree.js';
import { makeWorld, type World } from '../../helpers/world.js';
import { configBlock, makeInstance, type Instance } from '../../helpers/boot-instance.js';

const moto = await startMoto();
const SSM_PATH = '/pacha/test';

let world: World;
let imds: ImdsServer;
let foo: string;
let markers: string;
let clientKey: string;
let died: Record<string, unknown>;

/** A line from the middle of the private key: must appear in no output, report or hook environment. */
const keyLine = (): string => clientKey.trim().split('\n')[2]!;

before(async () => {
  world = await makeWorld({ ssh: true });
  const account = makeAccount();
  foo = path.join(world.root, 'opt/foo');
  mkdirSync(foo, { recursive: true });
  makeRichTree(foo, account);
  const watched = await world.pacha(['watch', foo]);
  assert.equal(watched.code, 0, watched.stderr);
  died = snapshot(foo);
  markers = path.join(world.dir, 'markers');
  mkdirSync(markers);
  const mark = (name: string): string => `echo "${name} $PACHA_HOST placed=$(test -e ${foo}/app.conf && echo yes || echo no)" >> ${markers}/order`;
  writeHook(world.masterDir, 'bar', 'pre', '10-check', mark('pre'));
  writeHook(world.masterDir, 'bar', 'post', '10-restart', `${mark('post')}\nenv > ${markers}/post-env`);
  clientKey = readFileSync(world.sshd!.clientKey, 'utf8');
  // The fleet's SSM parameters: the master's host key for everyone, bar's own key for bar.
  await moto.put(`${SSM_PATH}/pacha.ssh.host_key`, world.sshd!.hostKey);
  await moto.put(`${SSM_PATH}/hosts/bar/pacha.ssh.private_key`, clientKey, 'SecureString');
  imds = await startImds({ instanceId: 'i-0b22a5e9c3d4e5f60', region: 'us-east-1', localHostname: 'ip-10-0-0-7' });
  // bar dies: its files and its pacha state are gone.
  rmSync(foo, { recursive: true, force: true });
  rmSync(world.stateDir, { recursive: true, force: true });
});
after(() => imds?.stop());

/** The instance replacing bar: user data (hostname, where the master is, the SSM path); its key is in SSM. */
function barInstance(port?: number, extra: string[] = []): Instance {
  const instance = makeInstance({
    sshd: world.sshd!,
    hostsPath: world.masterDir,
    ...(port ? { port } : {}),
    extra,
    // The region comes from the metadata service; the SSM endpoint is moto.
    env: { PACHA_IMDS_ENDPOINT: imds.endpoint, AWS_EC2_METADATA_DISABLED: 'false', AWS_ENDPOINT_URL_SSM: moto.endpoint },
  });
  instance.writeUserData(`hostname: bar\nssm_path: ${SSM_PATH}\n${configBlock(instance.masterLines)}`);
  return instance;
}

function assertNoSecret(...texts: string[]): void {
  for (const text of texts) assert.ok(!text.includes(keyLine()), 'the private key leaked');
}

describe('pacha boot: the crash story from the image', { concurrency: false }, () => {
  let bar: Instance;

  test('a master that never answers: exit 3 within pacha.boot.timeout, nothing touched, the report says so', async () => {
    const closed = await freePort();
    const down = barInstance(closed, ['pacha.boot.timeout = 2']);
    const r = await down.boot(['--no-watch']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${closed} did not answer within 2 s`));
    assert.equal(existsSync(foo), false);
    assert.equal(existsSync(path.join(down.state, 'tracked.json')), false);
    assert.equal(existsSync(path.join(down.state, 'repos')), false);
    const report = down.report();
    assert.equal(report.exitCode, 3);
    assert.equal(report.error?.code, 'EBOOTTIMEOUT');
    assert.equal(report.decision, null);
    assert.equal(report.steps.find((s) => s.step === 'master')?.status, 'error');
    assertNoSecret(r.stdout, r.stderr, JSON.stringify(report));
  });

  test('--dry-run reads every source, decides rebuild and touches nothing', async () => {
    bar = barInstance();
    const r = await bar.boot(['--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /host: bar \(from user data /);
    assert.match(r.stdout, /decision: rebuild: no local state and .* has bar/);
    assert.match(r.stdout, /rebuild bar from .*: foo/);
    assert.match(r.stdout, /pacha\.ssh\.private_key = <redacted>  # ssm:\/pacha\/test\/hosts\/bar\/pacha\.ssh\.private_key/);
    assert.match(r.stdout, /imds \(http:\/\/127\.0\.0\.1:\d+\): ok, .*instance i-0b22a5e9c3d4e5f60, region us-east-1/);
    assert.match(r.stdout, /dry run: nothing was touched/);
    assert.equal(existsSync(foo), false);
    assert.equal(existsSync(bar.state), false, 'a dry run writes nothing, not even its report');
    assertNoSecret(r.stdout, r.stderr);
  });

  test('an instance with only user data (+ its key in SSM) becomes bar: /opt/foo restored, hooks run', async () => {
    const r = await bar.boot(['--no-watch']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.deepEqual(snapshot(foo), died);
    assert.deepEqual(readFileSync(path.join(markers, 'order'), 'utf8').trim().split('\n'), ['pre bar placed=no', 'post bar placed=yes']);
    const report = bar.report();
    assert.equal(report.host, 'bar');
    assert.equal(report.decision?.action, 'rebuild');
    assert.equal(report.rebuild?.totals.repositories, 1);
    assert.equal(report.rebuild?.hooks.length, 2);
    const steps = Object.fromEntries(report.steps.map((s) => [s.step, s]));
    for (const name of ['user-data', 'imds', 'ssm-fleet', 'identity', 'ssm-host', 'keys', 'master', 'decide', 'rebuild']) {
      assert.equal(steps[name]?.status, 'ok', `${name}: ${JSON.stringify(steps[name])}`);
      assert.equal(typeof steps[name]?.durationMs, 'number');
    }
    assert.equal(steps['ssm-host']?.source, `${SSM_PATH}/hosts/bar`);
    assert.equal(steps.watch?.status, 'skipped');
    // Keys: 0600 in a 0700 dir, never in output, the report or a hook's environment.
    assert.equal(statSync(path.join(bar.state, 'ssh/id_master')).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(bar.state, 'ssh')).mode & 0o777, 0o700);
    const hookEnv = readFileSync(path.join(markers, 'post-env'), 'utf8');
    assert.doesNotMatch(hookEnv, /PRIVATE KEY|AWS_SECRET|PACHA_SSH/);
    assertNoSecret(r.stdout, r.stderr, readFileSync(path.join(bar.state, 'boot.json'), 'utf8'), hookEnv);
    assert.match(r.stderr, /boot .* bar: rebuild: 1 path, \d+ written, 2 hooks: exit 0/);
    // The rebuild's own report, as `pacha rebuild` keeps it (a boot's rebuild once left none).
    const reports = readdirSync(path.join(bar.state, 'reports')).filter((f) => /^rebuild-.*\.json$/.test(f));
    assert.equal(reports.length, 1, `one rebuild report: ${reports.join(', ')}`);
    const reportFile = path.join(bar.state, 'reports', reports[0]!);
    assert.equal(statSync(reportFile).mode & 0o777, 0o600);
    const kept = JSON.parse(readFileSync(reportFile, 'utf8')) as { host: string; exitCode: number; hooks: unknown[]; registered: Array<{ location: string; outcome: string }> };
    assert.equal(kept.host, 'bar');
    assert.equal(kept.exitCode, 0);
    assert.equal(kept.hooks.length, 2);
    assert.deepEqual(kept.registered.map((x) => x.outcome), ['tracked']);
    assertNoSecret(readFileSync(reportFile, 'utf8'));
  });

  test('pacha status shows the last boot', async () => {
    const r = await bar.pacha(['status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /last boot: boot \S+ bar: rebuild: 1 path, \d+ written, 2 hooks: exit 0/);
  });

  test('then a change on bar reaches the master with `pacha push` (same history)', async () => {
    writeFileSync(path.join(foo, 'app.conf'), 'listen = 8081\n');
    const r = await bar.pacha(['push']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pushed .*opt\/foo: 1 commit/);
    assert.equal(readFileSync(path.join(world.masterDir, 'bar/foo/app.conf'), 'utf8'), 'listen = 8081\n');
  });

  test('a reboot (local state present) does not rebuild; it pushes what changed while down', async () => {
    writeFileSync(path.join(foo, 'sub/deep/nested.conf'), 'deep = while down\n');
    const untouched = inodes(path.join(foo, 'private'));
    const hooksBefore = readFileSync(path.join(markers, 'order'), 'utf8');
    const r = await bar.boot(['--no-watch']);
    assert.equal(r.code, 0, r.stderr);
    const report = bar.report();
    assert.equal(report.decision?.action, 'resume');
    assert.equal(report.rebuild, null);
    assert.equal(report.steps.some((s) => s.step === 'rebuild'), false);
    assert.equal(readFileSync(path.join(markers, 'order'), 'utf8'), hooksBefore, 'no hook ran');
    assert.deepEqual(inodes(path.join(foo, 'private')), untouched);
    assert.equal(readFileSync(path.join(world.masterDir, 'bar/foo/sub/deep/nested.conf'), 'utf8'), 'deep = while down\n');
  });

  test('--force-rebuild rebuilds despite local state', async () => {
    writeFileSync(path.join(world.masterDir, 'bar/pacha_post/10-restart'), `#!/bin/sh\necho forced >> ${markers}/order\n`);
    const r = await bar.boot(['--no-watch', '--force-rebuild']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(bar.report().decision?.action, 'rebuild');
    assert.match(readFileSync(path.join(markers, 'order'), 'utf8'), /forced\n$/);
  });

  test('without --no-watch boot goes on as the daemon: a change reaches the master; SIGTERM stops it cleanly', async () => {
    const child = spawn(process.execPath, [CLI, '-c', bar.imageConfig, 'boot', '--user-data', bar.userData, '--instance-data', bar.instanceData], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        ...MOTO_ENV,
        PACHA_IMDS_ENDPOINT: imds.endpoint,
        AWS_ENDPOINT_URL_SSM: moto.endpoint,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    try {
      const waitFor = async (what: string, ok: () => boolean): Promise<void> => {
        for (let i = 0; i < 300 && !ok(); i++) await delay(100);
        assert.ok(ok(), `${what}; stderr:\n${stderr}`);
      };
      await waitFor('the daemon should watch /opt/foo', () => /watching .*opt\/foo/.test(stderr));
      writeFileSync(path.join(foo, 'app.conf'), 'listen = 9090\n');
      const onMaster = path.join(world.masterDir, 'bar/foo/app.conf');
      await waitFor('the change should reach the master', () => readFileSync(onMaster, 'utf8') === 'listen = 9090\n');
      assert.equal(bar.report().decision?.action, 'resume');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /daemon stopped/);
    assertNoSecret(stderr);
  });
});

describe('pacha boot: a new host and bad input', () => {
  test('a host the master does not know: created, its pacha.watch paths tracked and pushed', async () => {
    const instanceRoot = path.join(world.dir, 'baz-root');
    const app = path.join(instanceRoot, 'etc/app');
    mkdirSync(app, { recursive: true });
    writeFileSync(path.join(app, 'app.ini'), '[main]\nport = 1\n');
    const baz = makeInstance({ sshd: world.sshd!, hostsPath: world.masterDir, extra: [`pacha.watch = ${app}`] });
    const indentKey = clientKey.trim().split('\n').map((l) => `  ${l}`).join('\n');
    baz.writeUserData(`hostname: baz\n${configBlock(baz.masterLines)}\nssh_key: |\n${indentKey}\nmaster_host_key: ${world.sshd!.hostKey}`);
    const r = await baz.boot(['--no-watch']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = baz.report();
    assert.equal(report.decision?.action, 'new-host');
    assert.equal(report.steps.find((s) => s.step === 'track')?.status, 'ok');
    assert.equal(readFileSync(path.join(world.masterDir, 'baz/app/app.ini'), 'utf8'), '[main]\nport = 1\n');
    assert.ok(readdirSync(path.join(world.masterDir, 'baz')).includes('app'));
    assertNoSecret(r.stdout, r.stderr);
  });

  test('an unknown key in the pacha: mapping: exit 2 naming the user data, nothing touched', async () => {
    const bad = makeInstance({ sshd: world.sshd!, hostsPath: world.masterDir });
    bad.writeUserData(`hostname: bar\nhostnmae: typo\n${configBlock(bad.masterLines)}`);
    const r = await bad.boot(['--no-watch']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(bad.userData.replace(/[.]/g, '\\.')));
    assert.match(r.stderr, /hostnmae/);
    assert.equal(existsSync(path.join(bad.state, 'tracked.json')), false);
  });

  test('malformed YAML: exit 2 naming the user data', async () => {
    const bad = makeInstance({ sshd: world.sshd!, hostsPath: world.masterDir });
    writeFileSync(bad.userData, '#cloud-config\npacha:\n  hostname: [bar\n');
    const r = await bad.boot(['--no-watch', '--json']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(bad.userData.replace(/[.]/g, '\\.')));
    assert.equal(JSON.parse(r.stdout).ok, false);
  });
});
