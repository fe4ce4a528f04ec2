import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { ConfigError } from '../../../src/errors.js';
import { gatherBootSettings, type GatherOptions } from '../../../src/sources/gather.js';
import type { BootStep } from '../../../src/sources/steps.js';
import { startImds } from '../../helpers/imds.js';
import { startMoto } from '../../helpers/moto.js';
import { keygen } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tmp.js';

const moto = await startMoto();
beforeEach(() => moto.reset());

const keys = tempDir('pacha-gather-keys-');
keygen(path.join(keys, 'client'));
keygen(path.join(keys, 'host'));
const CLIENT_KEY = readFileSync(path.join(keys, 'client'), 'utf8');
const HOST_KEY = readFileSync(path.join(keys, 'host.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
const indent = (text: string, spaces: number): string => text.trim().split('\n').map((l) => ' '.repeat(spaces) + l).join('\n');

interface Scene {
  dir: string;
  state: string;
  userData: string;
  instanceData: string;
  config: string;
  options(extra?: Partial<GatherOptions>): GatherOptions;
}

/** A machine with nothing on it: no user data, no instance data, no config file, IMDS off. */
function scene(): Scene {
  const dir = tempDir('pacha-gather-');
  const state = path.join(dir, 'state');
  const s: Scene = {
    dir,
    state,
    userData: path.join(dir, 'user-data.txt'),
    instanceData: path.join(dir, 'instance-data.json'),
    config: path.join(dir, 'pacha.conf'),
    options: (extra = {}) => ({
      userDataPath: s.userData,
      instanceDataPath: s.instanceData,
      configPath: s.config,
      systemHostname: 'system-name',
      ssmEndpoint: moto.endpoint,
      ...extra,
      env: { PACHA_STATE_PATH: state, AWS_EC2_METADATA_DISABLED: 'true', ...extra.env },
    }),
  };
  return s;
}

function userData(s: Scene, pacha: string): void {
  writeFileSync(s.userData, `#cloud-config\npacha:\n${indent(pacha, 2)}\n`);
}

function statuses(report: BootStep[]): Record<string, string> {
  return Object.fromEntries(report.map((r) => [r.step, r.status]));
}

describe('gatherBootSettings: each source alone', () => {
  test('user data alone: settings, identity and both keys, written and pointed to', async () => {
    const s = scene();
    userData(
      s,
      `hostname: bar
config: |
  pacha.host = master.example.com
  pacha.ssh.port = 2222
  pacha.ssh.user = bar_user
ssh_key: |
${indent(CLIENT_KEY, 2)}
master_host_key: ${HOST_KEY}`,
    );
    const { settings, identity, report } = await gatherBootSettings(s.options());
    const origin = `user-data:${s.userData}`;
    assert.deepEqual(identity, { name: 'bar', kind: 'user-data', source: `user data ${s.userData}` });
    assert.equal(settings.get('pacha.hostname'), 'bar');
    assert.equal(settings.origin('pacha.hostname'), origin);
    assert.equal(settings.get('pacha.ssh.user'), 'bar_user');
    assert.equal(settings.origin('pacha.ssh.user'), origin);

    const keyFile = path.join(s.state, 'ssh', 'id_master');
    assert.equal(settings.get('pacha.ssh.key'), keyFile);
    assert.equal(settings.origin('pacha.ssh.key'), origin);
    assert.equal(readFileSync(keyFile, 'utf8'), CLIENT_KEY);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const knownHosts = path.join(s.state, 'ssh', 'known_hosts');
    assert.equal(settings.get('pacha.ssh.known_hosts'), knownHosts);
    assert.equal(settings.origin('pacha.ssh.known_hosts'), origin);
    assert.equal(readFileSync(knownHosts, 'utf8'), `[master.example.com]:2222 ${HOST_KEY}\n`);

    assert.deepEqual(statuses(report), {
      'user-data': 'ok',
      'instance-data': 'absent',
      settings: 'absent',
      imds: 'skipped',
      'ssm-fleet': 'skipped',
      identity: 'ok',
      'ssm-host': 'skipped',
      keys: 'ok',
    });
    for (const step of report) assert.ok(!JSON.stringify(step).includes('PRIVATE KEY'), 'no key in the report');
  });

  test('the config file alone; the system host name as identity', async () => {
    const s = scene();
    writeFileSync(s.config, 'pacha.ssh.user = file_user\npacha.host = m.example.com\n');
    const { settings, identity, report } = await gatherBootSettings(s.options());
    assert.equal(settings.get('pacha.ssh.user'), 'file_user');
    assert.equal(settings.origin('pacha.ssh.user'), `file:${s.config}`);
    assert.deepEqual(identity, { name: 'system-name', kind: 'system', source: 'the system host name' });
    assert.equal(settings.origin('pacha.hostname'), 'system:hostname');
    assert.equal(report.find((r) => r.step === 'settings')?.source, s.config);
    assert.equal(statuses(report).keys, 'absent');
    assert.equal(existsSync(s.state), false, 'nothing written without key material');
  });

  test('instance data alone: the host is v1.local_hostname', async () => {
    const s = scene();
    writeFileSync(s.instanceData, JSON.stringify({ v1: { local_hostname: 'ip-10-0-0-7', instance_id: 'i-7', region: 'eu-west-1' } }));
    const { identity, settings, report } = await gatherBootSettings(s.options());
    assert.equal(identity.name, 'ip-10-0-0-7');
    assert.equal(identity.kind, 'instance-data');
    assert.equal(settings.origin('pacha.hostname'), `instance-data:${s.instanceData}`);
    assert.equal(statuses(report)['instance-data'], 'ok');
  });

  test('IMDS alone: the pacha-host tag names the host', async () => {
    const imds = await startImds({ instanceId: 'i-9', localHostname: 'ip-10-9-9-9', region: 'us-east-1', tags: { 'pacha-host': 'tagged' } });
    after(() => imds.stop());
    const s = scene();
    const { identity, settings, report } = await gatherBootSettings(s.options({ env: { PACHA_IMDS_ENDPOINT: imds.endpoint, AWS_EC2_METADATA_DISABLED: '' } }));
    assert.equal(identity.name, 'tagged');
    assert.equal(identity.source, 'the EC2 instance tag pacha-host');
    assert.equal(settings.origin('pacha.hostname'), 'imds:tags/instance/pacha-host');
    const step = report.find((r) => r.step === 'imds');
    assert.equal(step?.status, 'ok');
    assert.equal(step?.source, imds.endpoint);
    assert.match(step?.detail ?? '', /tag pacha-host tagged/);
  });

  test('IMDS tags lead to SSM: path from pacha-ssm-path, region from the instance', async () => {
    const imds = await startImds({ instanceId: 'i-9', region: 'us-east-1', tags: { 'pacha-ssm-path': '/pacha/tagged' } });
    after(() => imds.stop());
    await moto.put('/pacha/tagged/pacha.ssh.user', 'tag_path_user');
    await moto.put('/pacha/tagged/pacha.hostname', 'from-fleet');
    const s = scene();
    const { settings, identity, report } = await gatherBootSettings(s.options({ env: { PACHA_IMDS_ENDPOINT: imds.endpoint, AWS_EC2_METADATA_DISABLED: '' } }));
    assert.equal(settings.get('pacha.ssh.user'), 'tag_path_user');
    assert.equal(identity.name, 'from-fleet');
    assert.equal(identity.source, 'pacha.hostname (ssm:/pacha/tagged/pacha.hostname)');
    assert.match(report.find((r) => r.step === 'ssm-fleet')?.detail ?? '', /path from the EC2 instance tag pacha-ssm-path, region us-east-1 \(the EC2 instance metadata\)/);
  });

  test('SSM alone (PACHA_SSM_PATH, AWS_REGION): fleet, host overrides, SecureString key written', async () => {
    await moto.put('/pacha/prod/pacha.host', 'master.example.com');
    await moto.put('/pacha/prod/pacha.ssh.user', 'fleet_user');
    await moto.put('/pacha/prod/pacha.ssh.private_key', CLIENT_KEY, 'SecureString');
    await moto.put('/pacha/prod/pacha.ssh.host_key', HOST_KEY);
    await moto.put('/pacha/prod/hosts/system-name/pacha.ssh.user', 'host_user');
    const s = scene();
    const { settings, identity, report } = await gatherBootSettings(s.options({ env: { PACHA_SSM_PATH: '/pacha/prod', AWS_REGION: 'us-east-1' } }));
    assert.equal(identity.name, 'system-name');
    assert.equal(settings.get('pacha.ssh.user'), 'host_user');
    assert.equal(settings.origin('pacha.ssh.user'), 'ssm:/pacha/prod/hosts/system-name/pacha.ssh.user');
    assert.equal(settings.get('pacha.host'), 'master.example.com');
    assert.equal(settings.get('pacha.ssh.key'), path.join(s.state, 'ssh', 'id_master'));
    assert.equal(settings.origin('pacha.ssh.key'), 'ssm:/pacha/prod/pacha.ssh.private_key');
    assert.equal(readFileSync(path.join(s.state, 'ssh', 'id_master'), 'utf8'), CLIENT_KEY);
    assert.equal(readFileSync(path.join(s.state, 'ssh', 'known_hosts'), 'utf8'), `master.example.com ${HOST_KEY}\n`);
    assert.equal(settings.origin('pacha.ssh.known_hosts'), 'ssm:/pacha/prod/pacha.ssh.host_key');
    assert.deepEqual(
      report.filter((r) => r.step.startsWith('ssm')).map((r) => [r.step, r.source, r.status]),
      [
        ['ssm-fleet', '/pacha/prod', 'ok'],
        ['ssm-host', '/pacha/prod/hosts/system-name', 'ok'],
      ],
    );
  });
});

describe('gatherBootSettings: precedence', () => {
  test('every source sets pacha.ssh.user: defaults < file < SSM fleet < SSM host < user data < env < flags', async () => {
    const s = scene();
    const order = [
      ['flag', 'flag_user', 'flag:--user'],
      ['env', 'env_user', 'env:PACHA_SSH_USER'],
      ['user data', 'ud_user', `user-data:${s.userData}`],
      ['SSM host', 'host_user', 'ssm:/pacha/prod/hosts/bar/pacha.ssh.user'],
      ['SSM fleet', 'fleet_user', 'ssm:/pacha/prod/pacha.ssh.user'],
      ['file', 'file_user', `file:${s.config}`],
      ['nothing', 'root', 'default'],
    ] as const;
    // All of them first, then take the winner away one source at a time: the next one down
    // must win, with its origin.
    for (let top = 0; top < order.length; top++) {
      const has = (name: string): boolean => order.slice(top).some(([n]) => n === name);
      await moto.reset();
      await moto.put('/pacha/prod/pacha.other', 'keeps the path non-empty');
      if (has('SSM fleet')) await moto.put('/pacha/prod/pacha.ssh.user', 'fleet_user');
      if (has('SSM host')) await moto.put('/pacha/prod/hosts/bar/pacha.ssh.user', 'host_user');
      writeFileSync(s.config, has('file') ? 'pacha.ssh.user = file_user\n' : '\n');
      writeFileSync(s.userData, has('user data') ? '#cloud-config\npacha:\n  config: |\n    pacha.ssh.user = ud_user\n' : '#cloud-config\n{}\n');
      const { settings } = await gatherBootSettings(
        s.options({
          hostname: 'bar',
          env: { AWS_REGION: 'us-east-1', PACHA_SSM_PATH: '/pacha/prod', ...(has('env') ? { PACHA_SSH_USER: 'env_user' } : {}) },
          ...(has('flag') ? { flags: { 'pacha.ssh.user': { raw: 'flag_user', flag: '--user' } } } : {}),
        }),
      );
      const [name, value, origin] = order[top]!;
      assert.equal(settings.get('pacha.ssh.user'), value, `${name} wins`);
      assert.equal(settings.origin('pacha.ssh.user'), origin);
    }
  });

  test('a key in user data beats one in SSM; PACHA_SSH_KEY beats both', async () => {
    const s = scene();
    await moto.put('/pacha/prod/pacha.ssh.private_key', 'not a key at all', 'SecureString');
    userData(s, `ssm_path: /pacha/prod\nssh_key: |\n${indent(CLIENT_KEY, 2)}`);
    const first = await gatherBootSettings(s.options({ env: { AWS_REGION: 'us-east-1' } }));
    assert.equal(first.settings.origin('pacha.ssh.key'), `user-data:${s.userData}`);
    const second = await gatherBootSettings(s.options({ env: { AWS_REGION: 'us-east-1', PACHA_SSH_KEY: '/etc/pacha/key' } }));
    assert.equal(second.settings.get('pacha.ssh.key'), '/etc/pacha/key');
    assert.equal(second.settings.origin('pacha.ssh.key'), 'env:PACHA_SSH_KEY');
  });
});

describe('gatherBootSettings: missing and bad input', () => {
  test('missing user data and instance data are reported, and the rest goes on', async () => {
    const s = scene();
    await moto.put('/pacha/prod/pacha.ssh.user', 'fleet_user');
    const { settings, report } = await gatherBootSettings(s.options({ env: { PACHA_SSM_PATH: '/pacha/prod', AWS_REGION: 'us-east-1' } }));
    assert.equal(settings.get('pacha.ssh.user'), 'fleet_user');
    const byStep = Object.fromEntries(report.map((r) => [r.step, r]));
    assert.deepEqual([byStep['user-data']?.status, byStep['user-data']?.source], ['absent', s.userData]);
    assert.deepEqual([byStep['instance-data']?.status, byStep['instance-data']?.source], ['absent', s.instanceData]);
    for (const r of report) assert.ok(r.durationMs >= 0 && typeof r.detail === 'string');
  });

  test('an SSM path with no parameters: exit 2 naming the path; the partial report says where', async () => {
    const s = scene();
    const report: BootStep[] = [];
    await assert.rejects(
      gatherBootSettings(s.options({ report, env: { PACHA_SSM_PATH: '/pacha/empty', AWS_REGION: 'us-east-1' } })),
      (e: unknown) => e instanceof ConfigError && e.code === 'ESSMEMPTY' && e.message.includes('/pacha/empty'),
    );
    assert.deepEqual(report.at(-1)?.step, 'ssm-host');
    assert.deepEqual(report.at(-1)?.status, 'error');
  });

  test('no region for SSM: exit 2 naming the path', async () => {
    const s = scene();
    userData(s, 'ssm_path: /pacha/prod');
    await assert.rejects(gatherBootSettings(s.options()), (e: unknown) => e instanceof ConfigError && e.code === 'ESSMREGION' && e.message.includes('/pacha/prod'));
  });

  test('a bad private key: exit 2, nothing written, the report names the source', async () => {
    const s = scene();
    userData(s, 'ssh_key: |\n  -----BEGIN OPENSSH PRIVATE KEY-----\n  SECRETSECRET\n  -----END OPENSSH PRIVATE KEY-----');
    const report: BootStep[] = [];
    await assert.rejects(gatherBootSettings(s.options({ report })), (e: unknown) => e instanceof ConfigError && e.code === 'EBADKEY');
    const keysStep = report.find((r) => r.step === 'keys');
    assert.equal(keysStep?.status, 'error');
    assert.match(keysStep?.detail ?? '', new RegExp(`user-data:${s.userData}`));
    assert.ok(!JSON.stringify(report).includes('SECRETSECRET'));
    assert.deepEqual(existsSync(path.join(s.state, 'ssh')) ? readdirSync(path.join(s.state, 'ssh')) : [], []);
  });

  test('malformed user data stops everything at the first step', async () => {
    const s = scene();
    writeFileSync(s.userData, '#cloud-config\npacha: [\n');
    const report: BootStep[] = [];
    await assert.rejects(gatherBootSettings(s.options({ report })), (e: unknown) => e instanceof ConfigError && e.exitCode === 2);
    assert.deepEqual(report.map((r) => [r.step, r.status]), [['user-data', 'error']]);
  });

  test('--dry-run writes no key material', async () => {
    const s = scene();
    userData(s, `hostname: bar\nssh_key: |\n${indent(CLIENT_KEY, 2)}`);
    const { settings, report } = await gatherBootSettings(s.options({ dryRun: true }));
    assert.equal(statuses(report).keys, 'skipped');
    assert.equal(settings.get('pacha.ssh.key'), undefined);
    assert.equal(existsSync(s.state), false);
  });
});
