// The trees a live snapshot starts with (store/live.ts treesOf): every directory of the
// commit's tree by its path, from `git ls-tree -r -d -z`, the metadata's own directory left to the root.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { treesOf } from '../../../src/store/live.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

test('each directory of ls-tree -r -d maps to its tree id; .pacha is not kept; names with spaces and tabs stay whole', () => {
  const trees = treesOf([`040000 tree ${A}\t.pacha`, `040000 tree ${B}\tsub dir`, `040000 tree ${C}\tsub dir/x\ty`]);
  assert.deepEqual([...trees], [
    ['sub dir', B],
    ['sub dir/x\ty', C],
  ]);
});

test('no directories: an empty map', () => {
  assert.equal(treesOf([]).size, 0);
});
