// The metadata's layout in a commit (store/metadata-files.ts): shard counts, names, and files
// that read back as the metadata they were written from, in its order; versions 1 and 2 as they were.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { metadataFiles, parseMetadataFiles, shardCount, shardOf, shardPath } from '../../../src/store/metadata-files.js';
import type { Metadata, MetadataEntry } from '../../../src/store/metadata.js';
import { compareEntries } from '../../../src/store/snapshot-entries.js';

const entry = (rel: string): MetadataEntry => ({ path: rel, type: 'file', mode: 0o644, user: { id: 0, name: 'root' }, group: { id: 0 } });

test('shardCount: about 256 entries a shard, 16^k shards up to 256; a count in use is kept near its boundary', () => {
  assert.equal(shardCount(1), 1);
  assert.equal(shardCount(256), 1);
  assert.equal(shardCount(257), 16);
  assert.equal(shardCount(50_000), 256);
  assert.equal(shardCount(2_000_000), 256, 'never more than 256 shards: their tree is written at every edit');
  assert.equal(shardCount(300_000, 4096), 256, 'a count no writer uses any more is not kept');
  // Near a boundary, the count the last commit used stays (no entry moves to another shard).
  assert.equal(shardCount(4097, 16), 16);
  assert.equal(shardCount(4095, 256), 256);
  assert.equal(shardCount(8193, 16), 256, 'far past its aim: the ideal count');
  assert.equal(shardCount(100, 256), 1, 'far below: the ideal count');
  assert.equal(shardCount(300, 7), 16, 'a count no writer uses is not kept');
});

test('shardPath: one name per shard, as many hex digits as the count needs', () => {
  assert.equal(shardPath(0, 1), '.pacha/metadata/0.json');
  assert.equal(shardPath(15, 16), '.pacha/metadata/f.json');
  assert.equal(shardPath(10, 256), '.pacha/metadata/0a.json');
  for (const count of [1, 16, 256]) assert.equal(new Set(Array.from({ length: count }, (_, i) => shardPath(i, count))).size, count);
});

test('shardOf: within the count, stable, and spread evenly over the shards', () => {
  const counts = new Array<number>(256).fill(0);
  for (let i = 0; i < 51_200; i++) counts[shardOf(`d${i % 97}/f${i}.conf`, 256)]!++;
  assert.ok(Math.min(...counts) > 120 && Math.max(...counts) < 290, `${Math.min(...counts)}..${Math.max(...counts)} entries a shard`);
  assert.equal(shardOf('etc/hosts', 256), shardOf('etc/hosts', 256));
  assert.equal(shardOf('anything', 1), 0);
});

test('metadataFiles then parseMetadataFiles: the same metadata, in its order, whatever the names', () => {
  const name = fc.string({ unit: fc.constantFrom('a', 'b', '-', '.', ' ', 'é', '\udc80', '\n', '"', '\\'), minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(fc.uniqueArray(name, { maxLength: 600 }), fc.constantFrom(1, 16, 256), (names, shards) => {
      const paths = ['.', ...names.filter((n) => n !== '.')].sort(compareEntries);
      const metadata: Metadata = { version: 3, location: '/etc', host: 'bar', single: false, entries: paths.map(entry) };
      const files = metadataFiles(metadata, shards);
      assert.equal(files[0]!.path, '.pacha/metadata.json');
      assert.ok(files.length - 1 <= shards);
      const back = parseMetadataFiles(Buffer.from(files[0]!.text), files.slice(1).map((f) => Buffer.from(f.text))) as Metadata;
      assert.deepEqual(back, { ...metadata, shards });
      for (const file of files.slice(1)) assert.ok((JSON.parse(file.text) as unknown[]).length > 0, 'no empty shard is written');
    }),
    { numRuns: 80 },
  );
});

test('parseMetadataFiles: a version 1 or 2 file is read as it is; a shard that is not a list is refused', () => {
  const v2 = { version: 2, location: '/etc', host: 'bar', single: false, entries: [entry('.'), entry('a')] };
  assert.deepEqual(parseMetadataFiles(Buffer.from(JSON.stringify(v2)), []), v2);
  const header = Buffer.from(JSON.stringify({ version: 3, location: '/etc', host: 'bar', single: false, shards: 16, entries: [entry('smuggled')] }));
  assert.deepEqual((parseMetadataFiles(header, [Buffer.from(JSON.stringify([entry('.')]))]) as Metadata).entries, [entry('.')], "a header's own entries are not read");
  assert.throws(() => parseMetadataFiles(header, [Buffer.from('{"path":"a"}')]), /not a list/);
  assert.throws(() => parseMetadataFiles(header, [Buffer.from('[{"path":')]));
});
