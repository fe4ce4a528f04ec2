import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { environmentLayer } from '../../../src/config/env.js';
import { KEY_NAMES } from '../../../src/config/keys.js';
import { configPathFrom, loadSettings, requireMasterSettings } from '../../../src/config/load.js';
import { REDACTED, resolveSettings, type Layer } from '../../../src/config/settings.js';
import { ConfigError } from '../../../src/errors.js';
import { writeConfig } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

const layer = (source: string, origin: string, pairs: Record<string, string>): Layer => ({
  source,
  entries: Object.entries(pairs).map(([key, raw]) => ({ key, raw, origin })),
});

function configError(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.exitCode, 2);
    assert.match(error.message, pattern);
    return true;
  };
}

test('defaults alone: every key with origin default', () => {
  const s = resolveSettings([]);
  assert.equal(s.get('pacha.ssh.user'), 'root');
  assert.equal(s.get('pacha.ssh.port'), 22);
  assert.equal(s.get('pacha.host'), 'local');
  assert.equal(s.get('pacha.hosts.path'), '/opt/pacha/hosts');
  assert.equal(s.get('pacha.frequency'), 60);
  assert.equal(s.get('pacha.master'), false);
  assert.equal(s.get('pacha.ssh.key'), undefined);
  for (const key of KEY_NAMES) assert.equal(s.origin(key), 'default', key);
  assert.equal(s.isSet('pacha.host'), false);
});

test('later layers win, and each value keeps the origin of the layer that set it', () => {
  const s = resolveSettings([
    layer('/etc/pacha.conf', 'file:/etc/pacha.conf', { 'pacha.ssh.user': 'bar_user', 'pacha.frequency': '12', 'pacha.ssh.port': '2200' }),
    layer('user data', 'user-data:/x', { 'pacha.ssh.port': '2201' }),
    { source: 'the environment', entries: [{ key: 'pacha.ssh.user', value: 'alice', origin: 'env:PACHA_SSH_USER' }] },
    layer('the command line', 'flag:--state', { 'pacha.state.path': '/tmp/state/' }),
  ]);
  assert.equal(s.get('pacha.ssh.user'), 'alice');
  assert.equal(s.origin('pacha.ssh.user'), 'env:PACHA_SSH_USER');
  assert.equal(s.get('pacha.frequency'), 12);
  assert.equal(s.origin('pacha.frequency'), 'file:/etc/pacha.conf');
  assert.equal(s.get('pacha.ssh.port'), 2201);
  assert.equal(s.origin('pacha.ssh.port'), 'user-data:/x');
  assert.equal(s.get('pacha.state.path'), '/tmp/state');
  assert.equal(s.origin('pacha.state.path'), 'flag:--state');
  assert.equal(s.origin('pacha.host'), 'default');
});

test('with() puts more layers on top and keeps the earlier origins', () => {
  const base = resolveSettings([layer('f', 'file:f', { 'pacha.host': 'm.example.com', 'pacha.ssh.user': 'u' })]);
  const s = base.with([layer('ssm', 'ssm:/p/pacha.ssh.user', { 'pacha.ssh.user': 'v' })]);
  assert.equal(s.get('pacha.host'), 'm.example.com');
  assert.equal(s.origin('pacha.host'), 'file:f');
  assert.equal(s.get('pacha.ssh.user'), 'v');
  assert.equal(s.origin('pacha.ssh.user'), 'ssm:/p/pacha.ssh.user');
  assert.equal(base.get('pacha.ssh.user'), 'u', 'the original is unchanged');
});

test('a bad value names the source, the key and what is wrong; all of them at once', () => {
  assert.throws(
    () => resolveSettings([layer('/etc/pacha.conf', 'file:/etc/pacha.conf', { 'pacha.ssh.port': 'abc' })]),
    configError(/^\/etc\/pacha\.conf: pacha\.ssh\.port: 'abc' is not a port number$/),
  );
  assert.throws(
    () => resolveSettings([layer('/etc/pacha.conf', 'file:/etc/pacha.conf', { 'pacha.ssh.port': '70000', 'pacha.frequency': '-1' })]),
    configError(/pacha\.ssh\.port: 70000 is not a port number[^]*pacha\.frequency: -1 is below the minimum 1/),
  );
});

test('an unknown key is a warning naming the nearest key; the rest still loads', () => {
  const s = resolveSettings([layer('/etc/pacha.conf', 'file:/etc/pacha.conf', { 'pacha.ssh.usr': 'x', 'pacha.frequency': '12' })]);
  assert.equal(s.get('pacha.frequency'), 12);
  assert.equal(s.get('pacha.ssh.user'), 'root');
  assert.deepEqual(s.notices, [
    { level: 'warn', message: '/etc/pacha.conf: unknown key pacha.ssh.usr (did you mean pacha.ssh.user?); it is ignored' },
  ]);
});

test("the original's pacha.log.* and pacha.hg.autocorrect are accepted and ignored with an info notice", () => {
  const s = resolveSettings([layer('f', 'file:f', { 'pacha.log.enable': 'true', 'pacha.hg.autocorrect': 'true', 'pacha.log.path': '/var/log/pacha.log' })]);
  assert.deepEqual(s.notices.map((n) => n.level), ['info', 'info', 'info']);
  assert.match(s.notices[0]!.message, /^f: pacha\.log\.enable is ignored: /);
  assert.match(s.notices[1]!.message, /^f: pacha\.hg\.autocorrect is ignored: /);
});

test('entries(): every key in table order, values as text, secrets redacted', () => {
  const s = resolveSettings([
    layer('f', 'file:f', { 'pacha.ssh.private_key': '-----BEGIN OPENSSH PRIVATE KEY-----xyz', 'pacha.watch': '/a,/b' }),
  ]);
  const entries = s.entries();
  assert.deepEqual(entries.map((e) => e.key), KEY_NAMES);
  const secret = entries.find((e) => e.key === 'pacha.ssh.private_key')!;
  assert.deepEqual(secret, { key: 'pacha.ssh.private_key', value: REDACTED, origin: 'file:f', secret: true });
  assert.doesNotMatch(JSON.stringify(entries), /BEGIN OPENSSH|xyz/);
  assert.equal(entries.find((e) => e.key === 'pacha.watch')!.value, '/a,/b');
  assert.equal(entries.find((e) => e.key === 'pacha.ssh.port')!.value, '22');
  // Unset secrets show as empty, not as "<redacted>" (nothing is hidden).
  assert.equal(resolveSettings([]).entries().find((e) => e.key === 'pacha.ssh.private_key')!.value, '');
});

test('require() names the key, its variable and the config file', () => {
  const s = resolveSettings([], { path: '/etc/other.conf', found: true });
  assert.equal(s.require('pacha.ssh.port'), 22);
  assert.throws(() => s.require('pacha.ssh.key'), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /no value for pacha\.ssh\.key/);
    assert.match(error.hint ?? '', /\/etc\/other\.conf.*PACHA_SSH_KEY/);
    return true;
  });
});

test('environmentLayer: PACHA_* variables, validated, with env:NAME origins; empty ones ignored', async () => {
  const env = { PACHA_SSH_USER: 'alice', PACHA_SSH_PORT: '2222', PACHA_WATCH: '/a,/b', PACHA_HOSTNAME: '', OTHER: 'x' };
  const l = await environmentLayer(env);
  assert.equal(l.source, 'the environment');
  assert.deepEqual(
    [...l.entries].sort((a, b) => a.key.localeCompare(b.key)),
    [
      { key: 'pacha.ssh.port', value: 2222, origin: 'env:PACHA_SSH_PORT' },
      { key: 'pacha.ssh.user', value: 'alice', origin: 'env:PACHA_SSH_USER' },
      { key: 'pacha.watch', value: ['/a', '/b'], origin: 'env:PACHA_WATCH' },
    ],
  );
});

test('environmentLayer: a bad value names the variable and what is wrong', async () => {
  await assert.rejects(environmentLayer({ PACHA_SSH_PORT: 'abc' }), configError(/PACHA_SSH_PORT: 'abc' is not a port number/));
  await assert.rejects(environmentLayer({ PACHA_SSH_PORT: '0', PACHA_HOSTNAME: 'a/b' }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /PACHA_SSH_PORT: 0 is not a port number/);
    assert.match(error.message, /PACHA_HOSTNAME: 'a\/b' contains '\/'/);
    return true;
  });
});

test('environmentLayer: with no PACHA_* variable set (none, or only empty ones), an empty layer', async () => {
  assert.deepEqual(await environmentLayer({ OTHER: 'x', PACHA_HOSTNAME: '' }), { source: 'the environment', entries: [] });
});

test('configPathFrom: -c, then PACHA_CONFIG, then /etc/pacha.conf', () => {
  assert.deepEqual(configPathFrom({ configPath: '/a.conf', env: { PACHA_CONFIG: '/b.conf' } }), { path: '/a.conf', explicit: true });
  assert.deepEqual(configPathFrom({ env: { PACHA_CONFIG: '/b.conf' } }), { path: '/b.conf', explicit: true });
  assert.deepEqual(configPathFrom({ env: {} }), { path: '/etc/pacha.conf', explicit: false });
  // Relative paths are made absolute, so origins name the file unambiguously.
  assert.deepEqual(configPathFrom({ configPath: 'p.conf', env: {} }), { path: path.resolve('p.conf'), explicit: true });
  assert.deepEqual(configPathFrom({ env: { PACHA_CONFIG: 'q.conf' } }), { path: path.resolve('q.conf'), explicit: true });
});

test('loadSettings: defaults < file < environment < flags', async () => {
  const dir = tempDir();
  const file = writeConfig(dir, ['[DEFAULT]', 'pacha.ssh.user = bar_user', 'pacha.frequency = 12', `pacha.state.path = ${dir}/from-file`]);
  const s = await loadSettings({
    configPath: file,
    env: { PACHA_SSH_USER: 'alice', PACHA_STATE_PATH: `${dir}/from-env` },
    flags: { 'pacha.state.path': { raw: `${dir}/from-flag`, flag: '--state' } },
  });
  assert.deepEqual(s.configFile, { path: file, found: true });
  assert.equal(s.get('pacha.frequency'), 12);
  assert.equal(s.origin('pacha.frequency'), `file:${file}`);
  assert.equal(s.get('pacha.ssh.user'), 'alice');
  assert.equal(s.origin('pacha.ssh.user'), 'env:PACHA_SSH_USER');
  assert.equal(s.get('pacha.state.path'), path.join(dir, 'from-flag'));
  assert.equal(s.origin('pacha.state.path'), 'flag:--state');
});

test('loadSettings: a missing file is a notice; requireMasterSettings refuses only when nothing says where the master is', async () => {
  const dir = tempDir();
  const missing = path.join(dir, 'missing.conf');
  const s = await loadSettings({ configPath: missing, env: {} });
  assert.deepEqual(s.configFile, { path: missing, found: false });
  assert.ok(s.notices.some((n) => n.level === 'warn' && n.message.includes(`${missing} not found`)));
  assert.throws(() => requireMasterSettings(s), configError(new RegExp(`config file ${missing} not found`)));

  const fromEnv = await loadSettings({ configPath: missing, env: { PACHA_HOST: 'local', PACHA_HOSTS_PATH: dir } });
  assert.doesNotThrow(() => requireMasterSettings(fromEnv));

  const found = await loadSettings({ configPath: writeConfig(dir, ['pacha.ssh.user = x']), env: {} });
  assert.doesNotThrow(() => requireMasterSettings(found));
});
