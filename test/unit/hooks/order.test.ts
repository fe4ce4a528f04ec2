import assert from 'node:assert/strict';
import { test } from 'node:test';
import { byteOrder as compareNamesC } from '../../../src/fs/byte-order.js';
import { orderHooks, type HookEntry } from '../../../src/hooks/index.js';

const exe = (name: string): HookEntry => ({ name, type: 'file', mode: 0o755 });

test('executables run in C-locale byte order of their names', () => {
  const { run, skipped } = orderHooks(['10-a', '02-b', 'a', 'B', 'ü-x'].map(exe));
  assert.deepEqual(run, ['02-b', '10-a', 'B', 'a', 'ü-x']);
  assert.deepEqual(skipped, []);
});

test('byte order, not UTF-16 order: a character outside the BMP sorts after U+FFxx', () => {
  // UTF-16 puts the surrogate pair (0xD83D…) before U+FF21; UTF-8 bytes put it after.
  assert.ok(compareNamesC('\u{1F600}', '\uFF21') > 0);
  assert.ok(compareNamesC('a', 'ab') < 0);
  assert.equal(compareNamesC('x', 'x'), 0);
});

test('any execute bit is enough; the rest is never chmod-ed but skipped with the mode', () => {
  const { run, skipped } = orderHooks([
    { name: 'owner', type: 'file', mode: 0o700 },
    { name: 'group', type: 'file', mode: 0o610 },
    { name: 'other', type: 'file', mode: 0o601 },
    { name: 'plain', type: 'file', mode: 0o644 },
  ]);
  assert.deepEqual(run, ['group', 'other', 'owner']);
  assert.equal(skipped.length, 1);
  assert.equal(skipped[0]?.name, 'plain');
  assert.match(skipped[0]?.reason ?? '', /not executable \(mode 0644\)/);
});

test('directories, symlinks and other types are skipped with a reason', () => {
  const { run, skipped } = orderHooks([
    { name: 'dir', type: 'directory', mode: 0o755 },
    { name: 'link', type: 'symlink', mode: 0o777 },
    { name: 'fifo', type: 'other', mode: 0o755 },
    exe('ok'),
  ]);
  assert.deepEqual(run, ['ok']);
  assert.deepEqual(skipped, [
    { name: 'dir', reason: 'directory' },
    { name: 'fifo', reason: 'not a regular file' },
    { name: 'link', reason: 'symbolic link (hooks must be regular files)' },
  ]);
});

test('run-parts exclusions: hidden, backup and package-manager leftovers are skipped', () => {
  const names = ['.hidden', '.10-a.swp', '10-a~', '10-a.dpkg-old', '10-a.dpkg-dist', '10-a.dpkg-new',
    '10-a.dpkg-tmp', '10-a.dpkg-bak', '10-a.ucf-old', '10-a.rpmsave', '10-a.rpmnew', '10-a.rpmorig', '10-a'];
  const { run, skipped } = orderHooks(names.map(exe));
  assert.deepEqual(run, ['10-a']);
  const reasons = Object.fromEntries(skipped.map((s) => [s.name, s.reason]));
  assert.equal(Object.keys(reasons).length, names.length - 1);
  assert.match(reasons['.hidden'] ?? '', /hidden/);
  assert.match(reasons['10-a~'] ?? '', /backup/);
  assert.match(reasons['10-a.dpkg-old'] ?? '', /package manager leftover \("\.dpkg-old"\)/);
  assert.match(reasons['10-a.rpmnew'] ?? '', /package manager leftover/);
});

test('names that merely contain a leftover word still run', () => {
  assert.deepEqual(orderHooks([exe('dpkg-cleanup'), exe('50-rpmnew-check'), exe('a~b')]).run, ['50-rpmnew-check', 'a~b', 'dpkg-cleanup']);
});

test('skipped entries are listed in the same byte order', () => {
  const { skipped } = orderHooks([
    { name: 'b', type: 'directory', mode: 0o755 },
    { name: 'B', type: 'directory', mode: 0o755 },
    { name: '1', type: 'directory', mode: 0o755 },
  ]);
  assert.deepEqual(skipped.map((s) => s.name), ['1', 'B', 'b']);
});

test('the input is not modified', () => {
  const entries = [exe('b'), exe('a')];
  orderHooks(entries);
  assert.deepEqual(entries.map((e) => e.name), ['b', 'a']);
});
