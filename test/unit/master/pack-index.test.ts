import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { packIndexHolds } from '../../../src/master/pack-index.js';

/** A version 2 pack index listing `oids` (hex), as git writes one (offsets and checksums zeroed: not read). */
function indexOf(oids: readonly string[]): Buffer {
  const names = [...new Set(oids)].map((o) => Buffer.from(o, 'hex')).sort(Buffer.compare);
  const fanout = Buffer.alloc(256 * 4);
  for (let b = 0; b < 256; b++) fanout.writeUInt32BE(names.filter((n) => n[0]! <= b).length, b * 4);
  const tail = Buffer.alloc(names.length * 8 + 40);
  return Buffer.concat([Buffer.from([0xff, 0x74, 0x4f, 0x63, 0, 0, 0, 2]), fanout, ...names, tail]);
}

const sha1 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex'));
const sha256 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

test('a pack index holds exactly the objects it lists (SHA-1 and SHA-256)', () => {
  for (const oid of [sha1, sha256]) {
    fc.assert(
      fc.property(fc.uniqueArray(oid, { maxLength: 300 }), fc.array(oid, { maxLength: 20 }), (listed, others) => {
        const idx = indexOf(listed);
        for (const o of listed) assert.ok(packIndexHolds(idx, o), `${o} is listed`);
        for (const o of others) assert.equal(packIndexHolds(idx, o), listed.includes(o));
      }),
    );
  }
});

test('names at the edges of the fan-out: first and last byte 00 and ff', () => {
  const edge = ['00'.repeat(20), `00${'ff'.repeat(19)}`, `ff${'00'.repeat(19)}`, 'ff'.repeat(20)];
  const idx = indexOf(edge);
  for (const o of edge) assert.ok(packIndexHolds(idx, o));
  assert.equal(packIndexHolds(idx, `01${'00'.repeat(19)}`), false);
  assert.equal(packIndexHolds(indexOf([]), edge[0]!), false);
});

test('anything but a well-formed version 2 index, or a malformed name, holds nothing (the caller then checks in full)', () => {
  const oid = 'ab'.repeat(20);
  const idx = indexOf([oid]);
  assert.ok(packIndexHolds(idx, oid));
  assert.equal(packIndexHolds(idx, oid.toUpperCase()), false);
  assert.equal(packIndexHolds(idx, oid.slice(2)), false);
  const version1 = Buffer.from(idx);
  version1.writeUInt32BE(1, 4);
  assert.equal(packIndexHolds(version1, oid), false);
  const badMagic = Buffer.from(idx);
  badMagic[0] = 0;
  assert.equal(packIndexHolds(badMagic, oid), false);
  assert.equal(packIndexHolds(idx.subarray(0, 8 + 1024 + 10), oid), false, 'cut short');
  const lying = Buffer.from(idx);
  lying.writeUInt32BE(0xffffffff, 8 + 255 * 4); // a count beyond the file
  assert.equal(packIndexHolds(lying, oid), false);
});
