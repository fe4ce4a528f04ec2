// A delta of a text in pieces against another (store/pack-delta.ts), read back by a decoder
// written from git's patch-delta.c: it makes the target byte for byte from any base and any
// target, pieces shared by identity or not; an edit of one block of a big text costs about that
// block; a delta that would insert too much is not made. (Real git applies them in
// test/system/store/pack-file.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { deltaAgainst, deltaSize } from '../../../src/store/pack-delta.js';

/** git's patch_delta, as its C reads a delta: sizes, then copy (high bit) and insert (1..127) instructions. */
function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let at = 0;
  const size = () => {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = delta[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  assert.equal(size(), base.length, "the delta's base size");
  const resultSize = size();
  const out: Buffer[] = [];
  while (at < delta.length) {
    const cmd = delta[at++]!;
    if (cmd & 0x80) {
      let offset = 0;
      let length = 0;
      for (let i = 0; i < 4; i++) if (cmd & (1 << i)) offset += delta[at++]! * 2 ** (8 * i);
      for (let i = 0; i < 3; i++) if (cmd & (0x10 << i)) length |= delta[at++]! << (8 * i);
      if (length === 0) length = 0x10000;
      assert.ok(offset + length <= base.length, 'a copy inside the base');
      out.push(base.subarray(offset, offset + length));
    } else {
      assert.ok(cmd !== 0, 'instruction 0 is reserved');
      out.push(delta.subarray(at, at + cmd));
      at += cmd;
    }
  }
  const result = Buffer.concat(out);
  assert.equal(result.length, resultSize, "the delta's result size");
  return result;
}

test('delta sizes: 7 bits a byte, low first, continuation on all but the last', () => {
  assert.deepEqual([...deltaSize(0)], [0]);
  assert.deepEqual([...deltaSize(127)], [127]);
  assert.deepEqual([...deltaSize(128)], [0x80, 1]);
  assert.deepEqual([...deltaSize(7_136_561)], [0xb1, 0xca, 0xb3, 0x03]);
});

/** Texts in pieces: some shared by identity between base and target, some edited copies. */
const pieceArb = fc.uint8Array({ minLength: 0, maxLength: 3000 }).map((a) => Buffer.from(a));
const editArb = fc.record({ at: fc.nat(), cut: fc.nat({ max: 40 }), insert: fc.uint8Array({ maxLength: 40 }) });

test('any base and target, pieces shared or edited: the delta makes the target exactly', () => {
  fc.assert(
    fc.property(fc.array(pieceArb, { maxLength: 12 }), fc.array(fc.oneof(fc.nat(), editArb, pieceArb), { maxLength: 14 }), (base, plan) => {
      // The target: base pieces reused (same Buffer), base pieces with a small edit, and new pieces.
      const target = plan.map((step) => {
        if (Buffer.isBuffer(step)) return step;
        if (base.length === 0) return Buffer.from('x');
        if (typeof step === 'number') return base[step % base.length]!;
        const piece = base[step.at % base.length]!;
        const cut = Math.min(step.at % (piece.length + 1), piece.length);
        return Buffer.concat([piece.subarray(0, cut), Buffer.from(step.insert), piece.subarray(Math.min(cut + step.cut, piece.length))]);
      });
      const whole = Buffer.concat(target);
      const delta = deltaAgainst(base, target, Number.MAX_SAFE_INTEGER);
      assert.ok(delta, 'no limit: always a delta');
      assert.ok(applyDelta(Buffer.concat(base), delta).equals(whole));
    }),
    { numRuns: 300 },
  );
});

test('one line changed in a 7 MB text of 4 KB blocks: the delta is about that line, and it makes the text', () => {
  const blocks = Array.from({ length: 1800 }, (_, b) =>
    Buffer.from(Array.from({ length: 40 }, (_, i) => `    {"path":"d${b}/f${i}.conf","type":"file","mode":"0644","user":"root","group":"root","size":${b * 40 + i}},\n`).join('')),
  );
  const edited = Buffer.from(blocks[900]!.toString().replace('"size":36005}', '"size":99}'));
  assert.notEqual(edited.toString(), blocks[900]!.toString());
  const target = [...blocks.slice(0, 900), edited, ...blocks.slice(901)];
  const delta = deltaAgainst(blocks, target, 1024);
  assert.ok(delta);
  assert.ok(delta.length < 64, `a delta of ${delta.length} bytes`);
  assert.ok(applyDelta(Buffer.concat(blocks), delta).equals(Buffer.concat(target)));
  // Blocks added and removed, and new small pieces between them (the metadata's separators).
  const reshaped = [Buffer.from('{\n'), ...blocks.slice(0, 10), Buffer.from(',\n'), ...blocks.slice(12, 1700), edited, Buffer.from('\n]\n')];
  const second = deltaAgainst(blocks, reshaped, 4096);
  assert.ok(second);
  assert.ok(applyDelta(Buffer.concat(blocks), second).equals(Buffer.concat(reshaped)));
});

test('deletions, insertions at either end, empty texts: each delta makes its target', () => {
  const block = Buffer.from(Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join(''));
  const other = Buffer.from(block.toString().toUpperCase());
  const cases: Array<[string, Buffer[], Buffer[]]> = [
    ['one byte deleted', [block, other], [Buffer.concat([block.subarray(0, 1500), block.subarray(1501)]), other]],
    ['100 bytes deleted', [block, other], [block, Buffer.concat([other.subarray(0, 10), other.subarray(110)])]],
    ['a byte before everything', [block], [Buffer.from('!'), block]],
    ['a byte after everything', [block], [block, Buffer.from('!')]],
    ['a block dropped between two kept', [block, other, block.subarray(5)], [block, block.subarray(5)]],
    ['an empty target', [block], []],
    ['an empty base', [], [Buffer.from('new')]],
  ];
  for (const [what, base, target] of cases) {
    const delta = deltaAgainst(base, target, Number.MAX_SAFE_INTEGER);
    assert.ok(delta, what);
    assert.ok(applyDelta(Buffer.concat(base), delta).equals(Buffer.concat(target)), what);
  }
});

test('a delta that would insert more than the limit is not made', () => {
  const base = [Buffer.alloc(10_000, 'a')];
  const target = [Buffer.alloc(5_000, 'a'), Buffer.alloc(3_000, 'b'), Buffer.alloc(5_000, 'a')];
  assert.equal(deltaAgainst(base, target, 2_999), undefined);
  const delta = deltaAgainst(base, target, 3_000);
  assert.ok(delta);
  assert.ok(applyDelta(base[0]!, delta).equals(Buffer.concat(target)));
});
