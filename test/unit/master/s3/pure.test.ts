// The S3 master's pure parts: the location in pacha.host, the pointer read from a bucket
// (never trusted as it comes: a hostile pointer names no path outside bundles/ and no odd
// ref), hook modes from object metadata, push specs as git sends them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseS3Location, s3LocationProblem } from '../../../../src/config/s3-url.js';
import { parseValue } from '../../../../src/config/values.js';
import { hookMode } from '../../../../src/master/s3/hooks.js';
import { advancePointer, emptyPointer, needsCompaction, parsePointer, serializePointer } from '../../../../src/master/s3/pointer.js';
import { parsePushSpec } from '../../../../src/master/s3/repository.js';

const SHA = 'a'.repeat(40);
const KEY = `bundles/${'b'.repeat(64)}.bundle`;

test('pacha.host = s3://BUCKET/PREFIX is parsed and checked', () => {
  assert.deepEqual(parseS3Location('s3://fleet/hosts/prod/'), { bucket: 'fleet', prefix: 'hosts/prod' });
  assert.deepEqual(parseS3Location('s3://fleet'), { bucket: 'fleet', prefix: '' });
  assert.equal(parseValue('pacha.host', 's3://fleet/hosts'), 's3://fleet/hosts');
  for (const bad of ['s3://Fleet/x', 's3://a/x', 's3://fleet/../x', 's3://fleet/a/./b', 's3:///x']) assert.ok(s3LocationProblem(bad), bad);
  assert.throws(() => parseValue('pacha.host', 's3://UPPER/x'));
});

test('a pointer round-trips; a hostile one is refused', () => {
  const p = advancePointer(emptyPointer(), { 'refs/heads/main': SHA }, { key: KEY, size: 10, tips: [SHA] }, { time: 't', instance: 'i-1' });
  assert.deepEqual(parsePointer(serializePointer(p), 'x'), p);
  const hostile = [
    { version: 1, refs: { 'refs/heads/../../x': SHA }, chain: [] },
    { version: 1, refs: { 'HEAD': SHA }, chain: [] },
    { version: 1, refs: { 'refs/heads/main': 'not-a-sha' }, chain: [] },
    { version: 1, refs: {}, chain: [{ key: '../../other-host/bundles/x.bundle', size: 1, tips: [SHA] }] },
    { version: 1, refs: {}, chain: [{ key: KEY, size: 1, tips: ['zz'] }] },
    { version: 2, refs: {}, chain: [] },
  ];
  for (const h of hostile) assert.throws(() => parsePointer(JSON.stringify(h), 'x'), JSON.stringify(h));
  assert.throws(() => parsePointer('{', 'x'), /not JSON/);
});

test('advancing a pointer updates and deletes refs, appends one link; compaction past the bound', () => {
  let p = emptyPointer();
  for (let i = 0; i < 4; i++) p = advancePointer(p, { 'refs/heads/main': SHA, 'refs/pacha/x': i % 2 ? undefined : SHA }, { key: KEY, size: 1, tips: [SHA] }, { time: 't', instance: '' });
  assert.equal(p.chain.length, 4);
  assert.deepEqual(Object.keys(p.refs), ['refs/heads/main']);
  assert.equal(needsCompaction(p, 3), true);
  assert.equal(needsCompaction(p, 4), false);
});

test('hook modes: 0755 unless the metadata says otherwise; never setuid from a bucket', () => {
  assert.equal(hookMode({}), 0o755);
  assert.equal(hookMode({ mode: '0644' }), 0o644);
  assert.equal(hookMode({ mode: '4755' }), 0o755);
  assert.equal(hookMode({ mode: 'rwx' }), 0o755);
});

test('push specs as git sends them', () => {
  assert.deepEqual(parsePushSpec('+abc:refs/pacha/heartbeat'), { force: true, src: 'abc', dst: 'refs/pacha/heartbeat' });
  assert.deepEqual(parsePushSpec('refs/heads/main:refs/heads/main'), { force: false, src: 'refs/heads/main', dst: 'refs/heads/main' });
  assert.deepEqual(parsePushSpec(':refs/pacha/diverged/bar/x'), { force: false, src: '', dst: 'refs/pacha/diverged/bar/x' });
});
