// The S3 master's fleet reading, pure parts: a pointer as the fleet's refs, and the stamps a push writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { repoRefsFromPointer } from '../../../../src/master/s3/fleet-read.js';
import { advancePointer, emptyPointer, parsePointer, serializePointer, type Pointer } from '../../../../src/master/s3/pointer.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const by = { time: '2026-11-30T12:00:00.000Z', instance: 'i-1' };
const t = Date.parse(by.time) / 1000;

test('a pointer becomes main, heartbeat and diverged refs with their commits\' times and provenance', () => {
  const pointer = advancePointer(
    emptyPointer(),
    { 'refs/heads/main': A, 'refs/pacha/heartbeat': B, 'refs/pacha/diverged/h/2': C },
    undefined,
    by,
    { stamps: { 'refs/heads/main': { time: t - 60, trailers: ['Pacha-Instance: i-9', 'Pacha-Origin: daemon'] }, 'refs/pacha/heartbeat': { time: t - 5, trailers: [] } }, newMainTimes: [t - 60, t - 86400 * 40] },
  );
  const repo = repoRefsFromPointer('etc', parsePointer(serializePointer(pointer), 'p'), t - 86400 * 30);
  assert.deepEqual(repo.main, { ref: 'refs/heads/main', time: t - 60, by: { instance: 'i-9', origin: 'daemon' } });
  assert.equal(repo.heartbeat?.time, t - 5);
  assert.deepEqual(repo.diverged, [{ ref: 'refs/pacha/diverged/h/2', time: t }], 'unstamped: dated by the pointer');
  assert.deepEqual(repo.times, [t - 60], 'a commit older than the 30 days is dropped when the pointer is written');
});

test('a ref moved or deleted loses its old stamp; main\'s times grow only when main moves', () => {
  let p: Pointer = advancePointer(emptyPointer(), { 'refs/heads/main': A }, undefined, by, { stamps: { 'refs/heads/main': { time: t - 10, trailers: [] } }, newMainTimes: [t - 10] });
  p = advancePointer(p, { 'refs/pacha/heartbeat': B }, undefined, by, { stamps: { 'refs/pacha/heartbeat': { time: t, trailers: [] } }, newMainTimes: [] });
  assert.deepEqual(p.mainTimes, [t - 10]);
  p = advancePointer(p, { 'refs/heads/main': C }, undefined, by, { stamps: {}, newMainTimes: [t - 1] });
  assert.equal(p.stamps?.['refs/heads/main'], undefined, 'no stale stamp for a moved ref');
  assert.deepEqual(p.mainTimes, [t - 1, t - 10]);
  p = advancePointer(p, { 'refs/pacha/heartbeat': undefined }, undefined, by);
  assert.equal(p.stamps, undefined);
});

test('a stamp naming no ref, or with no time, is dropped when read', () => {
  const text = JSON.stringify({ version: 1, refs: { 'refs/heads/main': A }, chain: [], time: by.time, instance: 'x', stamps: { 'refs/heads/other': { time: 1, trailers: [] }, 'refs/heads/main': { time: 'soon' } } });
  assert.equal(parsePointer(text, 'p').stamps?.['refs/heads/other'], undefined);
  assert.equal(parsePointer(text, 'p').stamps?.['refs/heads/main'], undefined);
});
