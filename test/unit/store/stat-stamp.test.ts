// The stat stamp the daemon keeps per entry (capture.ts): flat, and what live.ts reads back from it.
import assert from 'node:assert/strict';
import type { Stats } from 'node:fs';
import { test } from 'node:test';
import { inodeOf, linksOf, statStamp } from '../../../src/store/capture.js';

const stats = (over: Partial<Stats> = {}): Stats =>
  ({ dev: 2049, ino: 9_007_199_254_740_000, birthtimeMs: 1764531200000.25, size: 12, mtimeMs: 1764531234567.891, ctimeMs: 1764531234999.5, nlink: 3, ...over }) as Stats;

test('a stamp is 56 characters; its inode part and link count read back', () => {
  const stamp = statStamp(stats());
  assert.equal(stamp.length, 56);
  assert.equal(linksOf(stamp), 3);
  assert.equal(inodeOf(stamp), inodeOf(statStamp(stats({ size: 99, nlink: 1, mtimeMs: 1 }))), 'same dev, inode and birth time: same group key');
  assert.equal(linksOf(statStamp(stats({ nlink: 1 }))), 1);
});

test('any field that moves changes the stamp; the inode part changes with dev, ino or birth time only', () => {
  const base = statStamp(stats());
  for (const over of [{ dev: 2050 }, { ino: 9_007_199_254_740_001 }, { birthtimeMs: 1764531200000.5 }, { size: 13 }, { mtimeMs: 1764531234567.892 }, { ctimeMs: 1764531235000 }, { nlink: 2 }]) {
    assert.notEqual(statStamp(stats(over)), base, JSON.stringify(over));
  }
  assert.notEqual(inodeOf(statStamp(stats({ dev: 2050 }))), inodeOf(base));
  assert.notEqual(inodeOf(statStamp(stats({ ino: 9_007_199_254_740_001 }))), inodeOf(base));
  assert.notEqual(inodeOf(statStamp(stats({ birthtimeMs: 1764531200000.5 }))), inodeOf(base), 'an inode number used again: another inode');
  assert.equal(statStamp(stats()), base, 'deterministic');
});
