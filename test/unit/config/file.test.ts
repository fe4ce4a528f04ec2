import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../../src/errors.js';
import { loadConfigFile, parseConfigText } from '../../../src/config/file.js';
import { tempDir } from '../../helpers/tmp.js';

const parse = (text: string) => parseConfigText(text, '/etc/pacha.conf', 'file:/etc/pacha.conf');
const pairs = (text: string) => parse(text).entries.map((e) => [e.key, e.raw]);

test('keys in [DEFAULT], with the file as origin', () => {
  const layer = parse('[DEFAULT]\npacha.frequency = 12\npacha.host = master.example.com\n');
  assert.equal(layer.source, '/etc/pacha.conf');
  assert.deepEqual(layer.entries, [
    { key: 'pacha.frequency', raw: '12', origin: 'file:/etc/pacha.conf' },
    { key: 'pacha.host', raw: 'master.example.com', origin: 'file:/etc/pacha.conf' },
  ]);
  assert.deepEqual(layer.notices, []);
});

test('keys before any section are accepted, and [DEFAULT] after them too', () => {
  assert.deepEqual(pairs('pacha.ssh.user = bar_user\n[DEFAULT]\npacha.ssh.port = 2222\n'), [
    ['pacha.ssh.user', 'bar_user'],
    ['pacha.ssh.port', '2222'],
  ]);
});

test('other sections are ignored with one notice naming each', () => {
  const layer = parse('[DEFAULT]\npacha.host = a\n[pacha.ssh]\nuser = x\npacha.ssh.user = y\n[other]\nz = 1\n[pacha.ssh]\nw = 2\n');
  assert.deepEqual(layer.entries.map((e) => e.key), ['pacha.host']);
  assert.deepEqual(
    layer.notices?.map((n) => [n.level, n.message]),
    [
      ['warn', '/etc/pacha.conf: section [pacha.ssh] is ignored; pacha reads keys in [DEFAULT] or before any section'],
      ['warn', '/etc/pacha.conf: section [other] is ignored; pacha reads keys in [DEFAULT] or before any section'],
    ],
  );
});

test('comments: whole lines with # or ;, and after whitespace at the end of a value', () => {
  assert.deepEqual(
    pairs('# top\n; also\n   # indented\n[DEFAULT]\npacha.host = master.example.com # the master\npacha.ssh.user = bob ; who\n'),
    [
      ['pacha.host', 'master.example.com'],
      ['pacha.ssh.user', 'bob'],
    ],
  );
});

test('values keep # and ; that do not start a comment, and every word as written', () => {
  assert.deepEqual(pairs('pacha.hosts.path = /srv/a#b;c\npacha.ssh.user = null\npacha.master = false\npacha.watch = /a, /b\n'), [
    ['pacha.hosts.path', '/srv/a#b;c'],
    ['pacha.ssh.user', 'null'],
    ['pacha.master', 'false'],
    ['pacha.watch', '/a, /b'],
  ]);
});

test("quoted values lose their quotes; ':' works as the delimiter too (ConfigParser)", () => {
  assert.deepEqual(pairs('pacha.ssh.user = "bar user"\npacha.ssh.key = \'/k\'\npacha.host: [::1]\n'), [
    ['pacha.ssh.user', 'bar user'],
    ['pacha.ssh.key', '/k'],
    ['pacha.host', '[::1]'],
  ]);
});

test('CRLF line ends, a byte order mark, spaces and upper-case keys', () => {
  assert.deepEqual(pairs('\uFEFF[DEFAULT]\r\n  Pacha.Frequency   =   12  \r\n'), [['pacha.frequency', '12']]);
});

test('an empty value stays empty (validation decides)', () => {
  assert.deepEqual(pairs('pacha.ssh.user =\n'), [['pacha.ssh.user', '']]);
});

test('a line that is not key = value is a ConfigError naming the file and line, not echoing it', () => {
  assert.throws(
    () => parse('[DEFAULT]\npacha.host = a\npacha.ssh.private_key SECRETMATERIAL\n'),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /^\/etc\/pacha\.conf, line 3: /);
      assert.doesNotMatch(error.message + (error.hint ?? ''), /SECRETMATERIAL/);
      return true;
    },
  );
});

test('loadConfigFile: a missing file is undefined, a directory is a ConfigError', async () => {
  const dir = tempDir();
  assert.equal(await loadConfigFile(path.join(dir, 'missing.conf')), undefined);
  mkdirSync(path.join(dir, 'conf.d'));
  await assert.rejects(loadConfigFile(path.join(dir, 'conf.d')), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /conf\.d is a directory/);
    return true;
  });
  const file = path.join(dir, 'pacha.conf');
  writeFileSync(file, 'pacha.frequency = 12\n');
  assert.deepEqual(await loadConfigFile(file), {
    source: file,
    entries: [{ key: 'pacha.frequency', raw: '12', origin: `file:${file}` }],
    notices: [],
  });
});
