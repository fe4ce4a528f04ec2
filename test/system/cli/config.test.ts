// `pacha config` and configuration errors, through the built CLI.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { KEY_NAMES } from '../../../src/config/keys.js';
import { runPacha, writeConfig } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

// The config file of ../shared/seeds/003_161717946da47855.txt, verbatim (its trailing space too).
const SEED_CONFIG = [
  '[DEFAULT]',
  '',
  '###################################',
  '# Pacha Server Configuration',
  '###################################',
  '',
  'pacha.frequency = 12',
  '',
  '# Pacha master server ',
  'pacha.host = master.example.com',
  '',
  'pacha.ssh.user = bar_user',
  '',
  'pacha.hosts.path = /pacha/hosts',
];

const SEED_VALUES = {
  'pacha.frequency': '12',
  'pacha.host': 'master.example.com',
  'pacha.ssh.user': 'bar_user',
  'pacha.hosts.path': '/pacha/hosts',
};

interface JsonConfig {
  configFile: { path: string; found: boolean };
  keys: Array<{ key: string; value: string; origin: string }>;
}

/** `pacha config`'s human lines as key -> { value, origin }. */
function humanConfig(stdout: string): Map<string, { value: string; origin: string }> {
  const rows = new Map<string, { value: string; origin: string }>();
  for (const line of stdout.split('\n')) {
    const match = /^(pacha\.\S+)\s+= (.*?)\s+# (\S+)$/.exec(line);
    if (match) rows.set(match[1]!, { value: match[2]!, origin: match[3]! });
  }
  return rows;
}

function seedFile(): string {
  return writeConfig(tempDir(), SEED_CONFIG);
}

test("the seed's config file works verbatim: values with their file as origin", async () => {
  const file = seedFile();
  const r = await runPacha(['-c', file, 'config']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'no warnings for the seed file');
  assert.match(r.stdout, new RegExp(`^# config file: ${file}$`, 'm'));
  const rows = humanConfig(r.stdout);
  assert.deepEqual([...rows.keys()], KEY_NAMES, 'every key, in table order');
  for (const [key, value] of Object.entries(SEED_VALUES)) {
    assert.deepEqual(rows.get(key), { value, origin: `file:${file}` }, key);
  }
  assert.deepEqual(rows.get('pacha.ssh.port'), { value: '22', origin: 'default' });
});

test('config --json is one JSON document with every key, value and origin', async () => {
  const file = seedFile();
  const r = await runPacha(['-c', file, '--json', 'config']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as JsonConfig;
  assert.deepEqual(doc.configFile, { path: file, found: true });
  assert.deepEqual(doc.keys.map((k) => k.key), KEY_NAMES);
  for (const [key, value] of Object.entries(SEED_VALUES)) {
    assert.deepEqual(doc.keys.find((k) => k.key === key), { key, value, origin: `file:${file}` });
  }
});

test('--config-values (the original flag) prints the same as config', async () => {
  const file = seedFile();
  const [modern, legacy, legacyJson] = await Promise.all([
    runPacha(['-c', file, 'config']),
    runPacha(['-c', file, '--config-values']),
    runPacha(['--config-values', '-c', file, '--json']),
  ]);
  assert.equal(legacy.code, 0, legacy.stderr);
  assert.equal(legacy.stdout, modern.stdout);
  assert.equal(legacyJson.code, 0, legacyJson.stderr);
  assert.equal((JSON.parse(legacyJson.stdout) as JsonConfig).keys.find((k) => k.key === 'pacha.frequency')?.value, '12');
});

const BAD_VALUES: Array<[line: string, key: string, problem: RegExp]> = [
  ['pacha.ssh.port = abc', 'pacha.ssh.port', /'abc' is not a port number/],
  ['pacha.ssh.port = 70000', 'pacha.ssh.port', /70000 is not a port number \(1-65535\)/],
  ['pacha.frequency = -5', 'pacha.frequency', /-5 is below the minimum 1/],
  ['pacha.hostname = a/b', 'pacha.hostname', /'a\/b' contains '\/'/],
  ['pacha.hostname = ..', 'pacha.hostname', /'\.\.' contains '\.\.'/],
  ['pacha.host = x/../y', 'pacha.host', /'x\/\.\.\/y' contains '\/'/],
  ['pacha.state.path = relative', 'pacha.state.path', /'relative' is not an absolute path/],
  ['pacha.master = maybe', 'pacha.master', /'maybe' is not true or false/],
  ['pacha.log.level = loud', 'pacha.log.level', /'loud' is not one of error, warn, info, debug/],
  ['pacha.watch = /opt/foo, etc/bar', 'pacha.watch', /'etc\/bar' is not an absolute path/],
];

for (const [line, key, problem] of BAD_VALUES) {
  test(`bad value '${line}': exit 2 naming the file, the key and what is wrong`, async () => {
    const file = writeConfig(tempDir(), ['[DEFAULT]', 'pacha.ssh.user = bar_user', line]);
    const r = await runPacha(['-c', file, 'config']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '', 'nothing printed as if the configuration were fine');
    const first = r.stderr.split('\n')[0]!;
    assert.ok(first.startsWith(`pacha: error: ${file}: ${key}: `), first);
    assert.match(first, problem);
  });
}

test('a bad value stops other commands too, before they do anything', async () => {
  const dir = tempDir();
  const file = writeConfig(dir, ['pacha.ssh.port = abc', `pacha.state.path = ${dir}/state`]);
  const r = await runPacha(['-c', file, 'push']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /pacha\.ssh\.port: 'abc' is not a port number/);
});

test('a line that is not key = value: exit 2 naming the file and the line', async () => {
  const file = writeConfig(tempDir(), ['[DEFAULT]', 'pacha.host master.example.com']);
  const r = await runPacha(['-c', file, 'config']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`^pacha: error: ${file}, line 2: `));
});

test('PACHA_SSH_USER wins over the file, with origin env:PACHA_SSH_USER', async () => {
  const file = seedFile();
  const r = await runPacha(['-c', file, 'config'], { env: { PACHA_SSH_USER: 'alice' } });
  assert.equal(r.code, 0, r.stderr);
  const rows = humanConfig(r.stdout);
  assert.deepEqual(rows.get('pacha.ssh.user'), { value: 'alice', origin: 'env:PACHA_SSH_USER' });
  assert.deepEqual(rows.get('pacha.host'), { value: 'master.example.com', origin: `file:${file}` });
});

test('a bad PACHA_SSH_PORT is exit 2 naming the variable', async () => {
  const r = await runPacha(['-c', seedFile(), 'config'], { env: { PACHA_SSH_PORT: 'abc' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /PACHA_SSH_PORT: 'abc' is not a port number/);
});

test('an unknown key is a warning naming the nearest key; exit 0', async () => {
  const file = writeConfig(tempDir(), [...SEED_CONFIG, 'pacha.ssh.usr = alice']);
  const r = await runPacha(['-c', file, 'config']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warn: .*unknown key pacha\.ssh\.usr \(did you mean pacha\.ssh\.user\?\)/);
  assert.deepEqual(humanConfig(r.stdout).get('pacha.ssh.user'), { value: 'bar_user', origin: `file:${file}` });
});

test("the original's pacha.log.enable and pacha.hg.autocorrect: accepted, ignored with a notice shown with -v", async () => {
  const file = writeConfig(tempDir(), [...SEED_CONFIG, 'pacha.log.enable = True', 'pacha.hg.autocorrect = True']);
  const quiet = await runPacha(['-c', file, 'config']);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stderr, '', 'no noise without -v');
  const verbose = await runPacha(['-c', file, '-v', 'config']);
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(verbose.stderr, /pacha\.log\.enable is ignored: /);
  assert.match(verbose.stderr, /pacha\.hg\.autocorrect is ignored: /);
  assert.doesNotMatch(verbose.stderr, /unknown key/);
});

test('another section is ignored with a warning', async () => {
  const file = writeConfig(tempDir(), [...SEED_CONFIG, '[bar]', 'pacha.ssh.user = other']);
  const r = await runPacha(['-c', file, 'config']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /section \[bar\] is ignored/);
  assert.equal(humanConfig(r.stdout).get('pacha.ssh.user')?.value, 'bar_user');
});

test('PACHA_CONFIG chooses the file; -c wins over it', async () => {
  const dir = tempDir();
  const fromEnv = writeConfig(dir, ['pacha.ssh.user = from_env_file'], 'env.conf');
  const fromFlag = writeConfig(dir, ['pacha.ssh.user = from_flag_file'], 'flag.conf');
  const byEnv = await runPacha(['config'], { env: { PACHA_CONFIG: fromEnv } });
  assert.equal(byEnv.code, 0, byEnv.stderr);
  assert.deepEqual(humanConfig(byEnv.stdout).get('pacha.ssh.user'), { value: 'from_env_file', origin: `file:${fromEnv}` });
  const byFlag = await runPacha(['-c', fromFlag, 'config'], { env: { PACHA_CONFIG: fromEnv } });
  assert.equal(byFlag.code, 0, byFlag.stderr);
  assert.deepEqual(humanConfig(byFlag.stdout).get('pacha.ssh.user'), { value: 'from_flag_file', origin: `file:${fromFlag}` });
});

test('-c with a relative path: origins name the absolute file', async () => {
  const dir = tempDir();
  writeConfig(dir, SEED_CONFIG);
  const r = await runPacha(['-c', 'pacha.conf', 'config'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(humanConfig(r.stdout).get('pacha.host'), { value: 'master.example.com', origin: `file:${path.join(dir, 'pacha.conf')}` });
});

test('--json with a bad value: exit 2 and a JSON error document on stdout', async () => {
  const file = writeConfig(tempDir(), ['pacha.ssh.port = abc']);
  const r = await runPacha(['-c', file, '--json', 'config']);
  assert.equal(r.code, 2);
  const doc = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string } };
  assert.equal(doc.ok, false);
  assert.equal(doc.error.code, 'EBADVALUE');
  assert.match(doc.error.message, new RegExp(`${file}: pacha\\.ssh\\.port: 'abc'`));
});

test('a missing config file: pacha config still works and says so', async () => {
  const missing = path.join(tempDir(), 'missing.conf');
  const r = await runPacha(['-c', missing, 'config']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^# config file: ${missing} \\(not found\\)$`, 'm'));
  assert.match(r.stderr, new RegExp(`config file ${missing} not found`));
  assert.deepEqual(humanConfig(r.stdout).get('pacha.host'), { value: 'local', origin: 'default' });
  const json = JSON.parse((await runPacha(['-c', missing, '--json', 'config'])).stdout) as JsonConfig;
  assert.deepEqual(json.configFile, { path: missing, found: false });
});

test('config --check: valid exit 0, invalid exit 2', async () => {
  const good = await runPacha(['-c', seedFile(), 'config', '--check']);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /: valid$/m);
  const badFile = writeConfig(tempDir(), ['pacha.ssh.port = 0']);
  const bad = await runPacha(['-c', badFile, 'config', '--check']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /pacha\.ssh\.port/);
});

test('secrets never appear in pacha config (human, --json, -v); shown as <redacted>', async () => {
  const secret = 'SUPERSECRETKEYMATERIAL-0123456789';
  const file = writeConfig(tempDir(), [...SEED_CONFIG]);
  for (const args of [['config'], ['--json', 'config'], ['-v', 'config'], ['-v', '--json', '--config-values']]) {
    const r = await runPacha(['-c', file, ...args], { env: { PACHA_SSH_PRIVATE_KEY: secret } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `secret leaked by ${args.join(' ')}`);
    const value = args.includes('--json')
      ? (JSON.parse(r.stdout) as JsonConfig).keys.find((k) => k.key === 'pacha.ssh.private_key')
      : humanConfig(r.stdout).get('pacha.ssh.private_key');
    assert.equal(value?.value, '<redacted>', args.join(' '));
    assert.equal(value?.origin, 'env:PACHA_SSH_PRIVATE_KEY');
  }
});

test('a secret in the config file is redacted too', async () => {
  const secret = 'FILESECRET-abcdef';
  const file = writeConfig(tempDir(), [...SEED_CONFIG, `pacha.ssh.private_key = ${secret}`]);
  const r = await runPacha(['-c', file, '-v', 'config']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!(r.stdout + r.stderr).includes(secret));
  assert.deepEqual(humanConfig(r.stdout).get('pacha.ssh.private_key'), { value: '<redacted>', origin: `file:${file}` });
});
