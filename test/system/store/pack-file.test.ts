// The pack pacha writes itself (store/pack-file.ts) is one git reads: index-pack verifies its
// checksum and every object, and each object reads back with git's id and bytes; whole or in
// pieces, empty to multi-megabyte. A limit is kept.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import { objectId } from '../../../src/store/objects.js';
import { packFile, type PackObject } from '../../../src/store/pack-file.js';
import { tempDir } from '../../helpers/tmp.js';

/** index-pack the pack into a fresh bare repository; returns it. Throws when git refuses the pack. */
function indexInto(pack: Buffer): string {
  const repo = tempDir();
  execFileSync('git', ['init', '-q', '--bare', repo]);
  execFileSync('git', ['--git-dir', repo, 'index-pack', '--stdin', '--strict'], { input: pack, stdio: ['pipe', 'pipe', 'pipe'] });
  return repo;
}

const catFile = (repo: string, type: string, id: string): Buffer => execFileSync('git', ['--git-dir', repo, 'cat-file', type, id], { maxBuffer: 64 * 1024 * 1024 });

test('random blobs, whole and in pieces: git indexes the pack and reads each back', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }), async (blobs) => {
      const objects: PackObject[] = blobs.map((pieces) => ({ type: 'blob', content: pieces.map((p) => Buffer.from(p)) }));
      const pack = await packFile(objects);
      assert.ok(pack);
      const repo = indexInto(pack);
      for (const pieces of blobs) {
        const whole = Buffer.concat(pieces.map((p) => Buffer.from(p)));
        assert.ok(catFile(repo, 'blob', objectId('blob', whole)).equals(whole));
      }
    }),
    { numRuns: 15 },
  );
});

test('a blob of 5 MB, a tree and a commit naming it: a connected history git checks strictly', async () => {
  const big = Buffer.alloc(5 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 11)) & 0xff;
  const blob = objectId('blob', big);
  const tree = Buffer.concat([Buffer.from('100644 big.bin\0'), Buffer.from(blob, 'hex')]);
  const commit = Buffer.from(`tree ${objectId('tree', tree)}\nauthor t <t@t> 0 +0000\ncommitter t <t@t> 0 +0000\n\nbig\n`);
  const pack = await packFile([
    { type: 'commit', content: commit },
    { type: 'tree', content: tree },
    { type: 'blob', content: [big.subarray(0, 100), big.subarray(100)] },
  ]);
  assert.ok(pack);
  const repo = indexInto(pack);
  const head = objectId('commit', commit);
  execFileSync('git', ['--git-dir', repo, 'update-ref', 'refs/heads/main', head]);
  execFileSync('git', ['--git-dir', repo, 'fsck', '--strict', '--no-dangling', '--no-progress'], { stdio: 'pipe' });
  assert.ok(catFile(repo, 'blob', blob).equals(big));
});

test('a pack past its limit is not made', async () => {
  const noise = Buffer.alloc(300_000);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  assert.equal(await packFile([{ type: 'blob', content: noise }], 100_000), undefined);
  assert.ok(await packFile([{ type: 'blob', content: noise }], 1_000_000));
});

test('an object given twice (two files with one content) is packed once: git refuses a pack holding it twice', async () => {
  const same = Buffer.from('key = 1\n');
  const pack = await packFile([
    { type: 'blob', content: same },
    { type: 'blob', content: [same.subarray(0, 3), same.subarray(3)] },
    { type: 'blob', content: same, id: objectId('blob', same) },
  ]);
  assert.ok(pack);
  assert.equal(pack.readUInt32BE(8), 1, 'one object in the pack');
  const repo = indexInto(pack);
  assert.ok(catFile(repo, 'blob', objectId('blob', same)).equals(same));
});
