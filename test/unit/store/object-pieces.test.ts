// writeObject of an object given in pieces (the daemon's metadata shards, live.ts) or as text: the same id and
// the same stored content as the object given whole, small and multi-megabyte alike.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { objectId, readLooseObject, writeObject } from '../../../src/store/objects.js';
import { tempDir } from '../../helpers/tmp.js';

for (const size of [10, 3 * 1024 * 1024]) {
  test(`an object of ${size} bytes in pieces: git's id, and it reads back whole`, async () => {
    const whole = Buffer.alloc(size);
    for (let i = 0; i < size; i++) whole[i] = (i * 31 + (i >> 9)) & 0xff;
    const half = Math.max(7, Math.floor(size / 2));
    const pieces = [whole.subarray(0, 7), whole.subarray(7, half), Buffer.alloc(0), whole.subarray(half)];
    const expected = createHash('sha1').update(`blob ${size}\0`).update(whole).digest('hex');
    assert.equal(objectId('blob', pieces), expected);
    assert.equal(objectId('blob', whole), expected);
    const gitDir = tempDir();
    assert.equal(await writeObject(gitDir, 'blob', pieces), expected);
    const read = await readLooseObject(gitDir, expected);
    assert.equal(read?.type, 'blob');
    assert.ok(read!.content.equals(whole));
  });
}

test("an object given as text (a metadata shard, commit.ts): its UTF-8 bytes' id, names beyond ASCII included", () => {
  const text = '[\n    {"path":"é/\udc80 ü","size":1}\n]\n';
  const bytes = Buffer.from(text);
  assert.ok(bytes.length > text.length, 'more bytes than characters');
  assert.equal(objectId('blob', text), createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex'));
  assert.equal(objectId('blob', text), objectId('blob', bytes));
});
