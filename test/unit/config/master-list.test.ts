// pacha.host as a list of masters, and the pure choice of the newest history among them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { masterEntries, masterId, parseMasterEntry, parseMasterList, pinnedKeyFor } from '../../../src/config/master-list.js';
import { InvalidValue, parseValue } from '../../../src/config/values.js';
import { newestHistory, type Head } from '../../../src/rebuild/choose-master.js';

test('entries: local, a host, an address, an ssh:// URL with user, port and hosts path', () => {
  assert.deepEqual(masterEntries(undefined), ['local']);
  assert.deepEqual(masterEntries(' a.example.com ,, b '), ['a.example.com', 'b']);
  assert.deepEqual(parseMasterEntry('local'), { kind: 'local', entry: 'local' });
  assert.deepEqual(parseMasterEntry('master-a.example.com'), { kind: 'ssh', entry: 'master-a.example.com', host: 'master-a.example.com' });
  assert.deepEqual(parseMasterEntry('[::1]'), { kind: 'ssh', entry: '[::1]', host: '::1' });
  assert.deepEqual(parseMasterEntry('ssh://backup@master-b.example.com:2222/srv/pacha/hosts'), {
    kind: 'ssh',
    entry: 'ssh://backup@master-b.example.com:2222/srv/pacha/hosts',
    host: 'master-b.example.com',
    user: 'backup',
    port: 2222,
    hostsPath: '/srv/pacha/hosts',
  });
  assert.deepEqual(parseMasterEntry('ssh://[fe80::1]:22'), { kind: 'ssh', entry: 'ssh://[fe80::1]:22', host: 'fe80::1', port: 22 });
  assert.deepEqual(parseMasterEntry('s3://bucket/prefix'), { kind: 's3', entry: 's3://bucket/prefix' });
  assert.equal(parseMasterList('a, local').length, 2);
});

test('bad entries are named; the key refuses them, and a master named twice', () => {
  assert.throws(() => parseMasterEntry('ftp://x'), /ftp:\/\/ is not a kind of master/);
  assert.throws(() => parseMasterEntry('ssh://a:99999'), /99999 is not a port number/);
  assert.throws(() => parseMasterEntry('ssh://a/srv/../etc'), /not a plain absolute path/);
  assert.throws(() => parseMasterEntry('s3://Not_A_Bucket/p'), /not an S3 bucket name/);
  assert.throws(() => parseMasterEntry('s3://bucket/a/../b'), /prefix segment '\.\.'/);
  assert.throws(() => parseMasterEntry('ssh://user;rm@a'), /is not ssh:\/\//);
  assert.throws(() => parseMasterEntry('bad..host'), /contains '\.\.'/);
  assert.equal(parseValue('pacha.host', 'a, ssh://b:2222'), 'a, ssh://b:2222');
  assert.throws(() => parseValue('pacha.host', 'a, a'), (e: unknown) => e instanceof InvalidValue && /names one master twice/.test(e.message));
  assert.throws(() => parseValue('pacha.host', 'a, /etc'), (e: unknown) => e instanceof InvalidValue && /has a bad entry/.test(e.message));
  assert.throws(() => parseValue('pacha.host', ''), /is empty/);
});

test('pinned keys by position; ids stable per entry', () => {
  assert.equal(pinnedKeyFor('ssh-ed25519 AAA, ssh-ed25519 BBB', 1), 'ssh-ed25519 BBB');
  assert.equal(pinnedKeyFor('ssh-ed25519 AAA', 1), undefined);
  assert.equal(pinnedKeyFor(undefined, 0), undefined);
  assert.equal(masterId('a.example.com'), masterId('a.example.com'));
  assert.notEqual(masterId('a.example.com'), masterId('b.example.com'));
  assert.match(masterId('x'), /^[0-9a-f]{12}$/);
});

test('newestHistory: the head containing the others wins, not the newest date; diverged masters: the newest head', () => {
  const h = (index: number, sha: string, time: number): Head => ({ index, sha, time });
  // B (index 1) contains A, though A's commit is dated later (a skewed clock).
  const ancestry = new Set(['1:0']);
  const contains = (a: Head, b: Head): boolean => a.sha === b.sha || ancestry.has(`${a.index}:${b.index}`);
  assert.deepEqual(newestHistory([h(0, 'a', 200), h(1, 'b', 100)], contains), { head: h(1, 'b', 100), diverged: false });
  assert.deepEqual(newestHistory([h(0, 'a', 100), h(1, 'a', 100)], contains), { head: h(0, 'a', 100), diverged: false });
  const none = (a: Head, b: Head): boolean => a.sha === b.sha;
  assert.deepEqual(newestHistory([h(0, 'a', 100), h(1, 'b', 300)], none), { head: h(1, 'b', 300), diverged: true });
});
