// A pack entry's header (pack-file.ts): type in bits 4-6 of the first byte, the size in
// 4 + 7n bits, little end first, as git's pack format spells it; decoded back for any size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { packEntryHeader } from '../../../src/store/pack-file.js';

test("git's bytes for known sizes", () => {
  assert.deepEqual([...packEntryHeader('blob', 0)], [0x30]);
  assert.deepEqual([...packEntryHeader('blob', 15)], [0x3f]);
  assert.deepEqual([...packEntryHeader('blob', 16)], [0xb0, 0x01]);
  assert.deepEqual([...packEntryHeader('blob', 1234)], [0xb2, 0x4d]);
  assert.deepEqual([...packEntryHeader('commit', 200)], [0x98, 0x0c]);
  assert.deepEqual([...packEntryHeader('tree', 7)], [0x27]);
  assert.throws(() => packEntryHeader('blob', -1), RangeError);
});

test('any size decodes back, continuation bit set on every byte but the last', () => {
  fc.assert(
    fc.property(fc.constantFrom('blob' as const, 'tree' as const, 'commit' as const), fc.maxSafeNat(), (type, size) => {
      const bytes = packEntryHeader(type, size);
      bytes.forEach((b, i) => assert.equal((b & 0x80) !== 0, i < bytes.length - 1));
      assert.equal((bytes[0]! >> 4) & 7, { commit: 1, tree: 2, blob: 3 }[type]);
      let decoded = bytes[0]! & 0x0f;
      let scale = 16;
      for (let i = 1; i < bytes.length; i++, scale *= 128) decoded += (bytes[i]! & 0x7f) * scale;
      assert.equal(decoded, size);
    }),
  );
});
