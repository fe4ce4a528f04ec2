import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from '../../../src/hooks/lines.js';

test('lines split across chunks are reassembled', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push(Buffer.from('one\ntw')), ['one']);
  assert.deepEqual(s.push(Buffer.from('o\r\nthree')), ['two']);
  assert.deepEqual(s.end(), ['three']);
  assert.deepEqual(s.end(), []);
});

test('a UTF-8 character split between chunks survives', () => {
  const s = new LineSplitter();
  const bytes = Buffer.from('ü-x\n');
  assert.deepEqual(s.push(bytes.subarray(0, 1)), []);
  assert.deepEqual(s.push(bytes.subarray(1)), ['ü-x']);
});

test('empty lines are kept; a final newline adds no empty line', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('a\n\nb\n'), ['a', '', 'b']);
  assert.deepEqual(s.end(), []);
});

test('an overlong line is cut into pieces instead of growing without bound', () => {
  const s = new LineSplitter(4);
  assert.deepEqual(s.push('abcdefghij'), ['abcd', 'efgh']);
  assert.deepEqual(s.push('k\n123456\n'), ['ijk', '1234', '56']);
});
