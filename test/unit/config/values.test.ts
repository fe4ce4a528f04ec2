import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KEYS, KEY_NAMES, type KeyName, type Kind } from '../../../src/config/keys.js';
import { InvalidValue, checkHostName, formatValue, parseValue } from '../../../src/config/values.js';

function rejects(key: KeyName, raw: string, pattern: RegExp): void {
  assert.throws(() => parseValue(key, raw), (error: unknown) => {
    assert.ok(error instanceof InvalidValue, `${key}=${raw}: ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

// One key of every kind, so a new kind without a test fails the last test below.
const KIND_TESTED: Record<Kind, KeyName> = {
  string: 'pacha.ssh.user',
  secret: 'pacha.ssh.private_key',
  integer: 'pacha.frequency',
  port: 'pacha.ssh.port',
  boolean: 'pacha.master',
  paths: 'pacha.watch',
  patterns: 'pacha.ignore',
  path: 'pacha.state.path',
  master: 'pacha.host',
  hostname: 'pacha.hostname',
  level: 'pacha.log.level',
  choice: 'pacha.boot.new_host',
};

test('every kind in the key table has a test here', () => {
  const kinds = new Set(KEY_NAMES.map((k) => KEYS[k].kind));
  for (const kind of kinds) assert.ok(Object.hasOwn(KIND_TESTED, kind), `kind ${kind} is untested`);
  for (const [kind, key] of Object.entries(KIND_TESTED)) assert.equal(KEYS[key].kind, kind);
});

test('string and secret: taken as written, trimmed', () => {
  assert.equal(parseValue('pacha.ssh.user', '  bar_user '), 'bar_user');
  assert.equal(parseValue('pacha.ssh.private_key', 'AAAA'), 'AAAA');
});

test('integer: whole numbers at or above the key minimum', () => {
  assert.equal(parseValue('pacha.frequency', '12'), 12);
  assert.equal(parseValue('pacha.frequency', '1'), 1);
  assert.equal(parseValue('pacha.push.delay', '0'), 0);
  rejects('pacha.frequency', '-5', /-5 is below the minimum 1/);
  rejects('pacha.frequency', '0', /below the minimum 1/);
  rejects('pacha.push.delay', '-1', /below the minimum 0/);
  rejects('pacha.frequency', '1.5', /'1.5' is not a whole number/);
  rejects('pacha.frequency', 'twelve', /not a whole number/);
  rejects('pacha.frequency', '', /not a whole number/);
  rejects('pacha.frequency', '1e3', /not a whole number/);
});

test('choice: one of the listed values, any case', () => {
  assert.equal(parseValue('pacha.boot.new_host', 'refuse'), 'refuse');
  assert.equal(parseValue('pacha.boot.new_host', ' ALLOW '), 'allow');
  rejects('pacha.boot.new_host', 'deny', /'deny' is not one of allow, refuse/);
  rejects('pacha.boot.new_host', '', /is not one of/);
});

test('port: 1 to 65535', () => {
  assert.equal(parseValue('pacha.ssh.port', '22'), 22);
  assert.equal(parseValue('pacha.ssh.port', '65535'), 65535);
  rejects('pacha.ssh.port', 'abc', /'abc' is not a port number/);
  rejects('pacha.ssh.port', '70000', /70000 is not a port number \(1-65535\)/);
  rejects('pacha.ssh.port', '0', /0 is not a port number/);
  rejects('pacha.ssh.port', '-22', /not a port number/);
  rejects('pacha.ssh.port', '22.0', /not a port number/);
});

test('boolean: true/yes/on/1 and false/no/off/0, any case', () => {
  for (const raw of ['true', 'TRUE', 'yes', 'on', '1']) assert.equal(parseValue('pacha.master', raw), true, raw);
  for (const raw of ['false', 'No', 'off', '0']) assert.equal(parseValue('pacha.master', raw), false, raw);
  rejects('pacha.master', 'maybe', /'maybe' is not true or false/);
  rejects('pacha.master', '', /is not true or false/);
});

test('patterns: comma-separated gitignore patterns, trimmed, blanks dropped, kept verbatim', () => {
  assert.deepEqual(parseValue('pacha.ignore', ' *.bak, /local/ ,,!keep.bak,\\#*\\#'), ['*.bak', '/local/', '!keep.bak', '\\#*\\#']);
  assert.deepEqual(parseValue('pacha.ignore', ''), []);
  rejects('pacha.ignore', 'a\0b', /NUL/);
});

test('paths: comma-separated absolute paths, blanks dropped, normalized', () => {
  assert.deepEqual(parseValue('pacha.watch', '/opt/foo, /etc/nginx/ ,,/srv/a/../b'), ['/opt/foo', '/etc/nginx', '/srv/b']);
  assert.deepEqual(parseValue('pacha.watch', ''), []);
  rejects('pacha.watch', '/opt/foo,relative/bar', /'relative\/bar' is not an absolute path/);
});

test('path: absolute, normalized, without a trailing slash', () => {
  assert.equal(parseValue('pacha.hosts.path', '/pacha/hosts/'), '/pacha/hosts');
  assert.equal(parseValue('pacha.hosts.path', '/pacha//hosts/./x/..'), '/pacha/hosts');
  assert.equal(parseValue('pacha.hosts.path', '/'), '/');
  rejects('pacha.state.path', 'relative', /'relative' is not an absolute path/);
  rejects('pacha.ssh.key', '~/.ssh/id_ed25519', /not an absolute path/);
});

test('master: local, a host name, an IPv4 or IPv6 address; never a path', () => {
  for (const raw of ['local', 'master.example.com', '10.0.0.1', '::1', '[::1]', 'fe80::1', 'bar_host']) {
    assert.equal(parseValue('pacha.host', raw), raw, raw);
  }
  rejects('pacha.host', 'x/../y', /'x\/..\/y' contains '\/'/);
  rejects('pacha.host', '..', /contains '..'/);
  rejects('pacha.host', 'user@host', /invalid label/);
  rejects('pacha.host', 'a:b', /invalid label/);
  rejects('pacha.host', '', /is empty/);
});

test('hostname: safe as one directory name on the master', () => {
  assert.equal(parseValue('pacha.hostname', 'bar'), 'bar');
  assert.equal(parseValue('pacha.hostname', 'web-01.prod'), 'web-01.prod');
  rejects('pacha.hostname', 'a/b', /'a\/b' contains '\/'/);
  rejects('pacha.hostname', '..', /'..' contains '..'/);
  rejects('pacha.hostname', '.hidden', /starts or ends with '.'/);
  rejects('pacha.hostname', '-bar', /invalid label '-bar'/);
  rejects('pacha.hostname', 'a b', /invalid label/);
  rejects('pacha.hostname', 'x'.repeat(254), /longer than 253/);
});

test('checkHostName says what is wrong, or nothing', () => {
  assert.equal(checkHostName('bar'), undefined);
  assert.equal(checkHostName(''), 'is empty');
  assert.equal(checkHostName('a..b'), "contains '..'");
});

test('level: error, warn, info, debug (any case, stored lower case)', () => {
  assert.equal(parseValue('pacha.log.level', 'DEBUG'), 'debug');
  for (const level of ['error', 'warn', 'info']) assert.equal(parseValue('pacha.log.level', level), level);
  rejects('pacha.log.level', 'loud', /'loud' is not one of error, warn, info, debug/);
});

test('formatValue: lists joined with commas, absent as empty', () => {
  assert.equal(formatValue(['/a', '/b']), '/a,/b');
  assert.equal(formatValue(undefined), '');
  assert.equal(formatValue(false), 'false');
  assert.equal(formatValue(22), '22');
});

test('every default in the table passes its own validation', () => {
  for (const key of KEY_NAMES) {
    const value = (KEYS[key] as { default?: unknown }).default;
    if (value === undefined) continue;
    assert.deepEqual(parseValue(key, formatValue(value)), value, key);
  }
});
