// The kept snapshot's per-path table (store/snapshot-entries.ts) answers exactly what three
// plain maps and a sorted list of paths would: lines, stamps, index values, the order, and
// each metadata shard's bytes and which shards changed, through any sequence of changes
// (fast-check against that model).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { shardOf } from '../../../src/store/metadata-files.js';
import { compareEntries, SnapshotEntries } from '../../../src/store/snapshot-entries.js';

const SHARDS = 16;

/** What the table must behave like: plain maps. */
class Model {
  lines = new Map<string, string>();
  stamps = new Map<string, string>();
  index = new Map<string, string>();
  order(): string[] {
    return [...this.lines.keys()].sort(compareEntries);
  }
  /** Shard `shard`'s lines as its text holds them. */
  block(shard: number, shards = SHARDS): string {
    return this.order()
      .filter((rel) => shardOf(rel, shards) === shard)
      .map((rel) => `    ${this.lines.get(rel)!}`)
      .join(',\n');
  }
}

/** Every shard's bytes and size are the model's. */
function checkShards(table: SnapshotEntries, model: Model, what: string): void {
  for (let shard = 0; shard < table.shards; shard++) {
    assert.equal(table.block(shard).toString(), model.block(shard, table.shards), `${what}: shard ${shard}`);
    assert.equal(table.shardSize(shard), model.order().filter((rel) => shardOf(rel, table.shards) === shard).length, `${what}: size of shard ${shard}`);
  }
}

const hex = (n: number) => n.toString(16).padStart(40, '0');
const stampOf = (n: number) => Buffer.alloc(56, n).toString('latin1');
/** Paths that exercise the byte order ('-' and '.' sort before '/'), directories and non-ASCII names. */
const NAMES = ['a', 'a/b', 'a/b/c', 'a/b/d', 'a-b', 'a.b', 'a/b c', 'b', 'b/x', 'é', 'é/ü', 'z\udc80'];
const SEEDED = Array.from({ length: 700 }, (_, i) => `d${Math.floor(i / 10)}/f${i % 10}`);
const PATHS = [...NAMES, ...SEEDED.filter((_, i) => i % 7 === 0), 'd3', 'd33', 'd3/new', 'd69/f9x'];

function check(table: SnapshotEntries, model: Model, what: string): void {
  assert.deepEqual(table.order, model.order(), `${what}: order`);
  assert.equal(table.size, model.lines.size, `${what}: size`);
  for (const rel of new Set([...PATHS, ...model.lines.keys(), ...model.stamps.keys(), ...model.index.keys()])) {
    assert.equal(table.has(rel), model.lines.has(rel), `${what}: has ${rel}`);
    assert.equal(table.line(rel), model.lines.get(rel), `${what}: line of ${rel}`);
    assert.equal(table.stamp(rel), model.stamps.get(rel), `${what}: stamp of ${rel}`);
    const stamp = model.stamps.get(rel);
    if (stamp !== undefined) assert.ok(table.hasStamp(rel, stamp), `${what}: hasStamp ${rel}`);
    assert.equal(table.hasStamp(rel, stampOf(250)), stamp === stampOf(250), `${what}: another stamp for ${rel}`);
    assert.equal(table.index(rel), model.index.get(rel), `${what}: index of ${rel}`);
  }
}

function seeded(): { table: SnapshotEntries; model: Model } {
  const model = new Model();
  const paths = ['.', ...SEEDED.slice().sort(compareEntries)];
  const lines = paths.map((rel, i) => JSON.stringify({ path: rel, n: i }));
  paths.forEach((rel, i) => {
    model.lines.set(rel, lines[i]!);
    if (i % 3 !== 0) model.stamps.set(rel, stampOf(i % 200));
  });
  const table = new SnapshotEntries(paths, lines, model.stamps, SHARDS);
  for (const [i, rel] of paths.entries()) {
    if (i % 2 === 0) continue;
    const value = `${i % 5 === 0 ? '120000' : '100644'} ${hex(i)}`;
    table.setIndex(rel, value);
    model.index.set(rel, value);
  }
  return { table, model };
}

const op = fc.oneof(
  fc.record({ kind: fc.constant('line' as const), rel: fc.constantFrom(...PATHS), text: fc.string({ unit: 'binary', maxLength: 12 }) }),
  fc.record({ kind: fc.constant('remove' as const), rel: fc.constantFrom('.', ...PATHS), withSelf: fc.boolean() }),
  fc.record({ kind: fc.constant('stamp' as const), rel: fc.constantFrom(...PATHS), n: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('index' as const), rel: fc.constantFrom(...PATHS), value: fc.constantFrom(undefined, `100755 ${hex(7)}`, `160000 ${hex(8)}`, 'odd value', `100644 ${'F'.repeat(40)}`) }),
  fc.record({ kind: fc.constant('pieces' as const) }),
  fc.record({ kind: fc.constant('lay' as const) }),
);

test('any sequence of changes: the table answers as plain maps do, each shard is its entries in order, and the changed shards are named', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const { table, model } = seeded();
      check(table, model, 'seeded');
      checkShards(table, model, 'seeded');
      /** Shards whose entries were set or removed since changedShards() last answered. */
      let touched = new Set<number>();
      for (const [i, o] of ops.entries()) {
        const what = `step ${i} ${JSON.stringify(o)}`;
        if (o.kind === 'line') {
          // A new entry's parent is always in the snapshot in live.ts; the table does not care.
          const line = JSON.stringify({ path: o.rel, text: o.text });
          if (model.lines.get(o.rel) !== line) touched.add(shardOf(o.rel, SHARDS)); // the same line again changes nothing
          table.setLine(o.rel, line);
          model.lines.set(o.rel, line);
        } else if (o.kind === 'remove') {
          if (o.rel === '.' && o.withSelf) continue; // the root never leaves (live.ts declines)
          const prefix = o.rel === '.' ? '' : `${o.rel}/`;
          const expected = [...model.lines.keys()].filter((p) => (p !== '.' && p.startsWith(prefix)) || (o.withSelf && p === o.rel)).sort();
          const seen: string[] = [];
          table.remove(o.rel, o.withSelf, (gone) => {
            assert.equal(table.line(gone), model.lines.get(gone), `${what}: ${gone}'s line still readable as it leaves`);
            seen.push(gone);
          });
          assert.deepEqual(seen.sort(), expected, `${what}: what left`);
          for (const p of expected) {
            model.lines.delete(p);
            model.stamps.delete(p);
            touched.add(shardOf(p, SHARDS));
          }
        } else if (o.kind === 'stamp') {
          table.set(o.rel, stampOf(o.n));
          model.stamps.set(o.rel, stampOf(o.n));
        } else if (o.kind === 'index') {
          table.setIndex(o.rel, o.value);
          if (o.value === undefined) model.index.delete(o.rel);
          else model.index.set(o.rel, o.value);
        } else if (o.kind === 'lay') {
          table.layBlocks(); // the daemon's, after a full commit (a no-op once laid)
        } else {
          const changed = table.changedShards();
          assert.deepEqual(
            changed.map((c) => c.shard),
            [...touched].sort((a, b) => a - b),
            `${what}: the shards changed`,
          );
          for (const c of changed) assert.equal(c.block.toString(), model.block(c.shard), `${what}: shard ${c.shard}`);
          touched = new Set();
        }
        check(table, model, what);
      }
      checkShards(table, model, 'final');
    }),
    { numRuns: 60 },
  );
});

test('one shard, or thousands of entries added one by one: every shard holds its entries in order', () => {
  for (const shards of [1, 16]) {
    const table = new SnapshotEntries(['.'], [JSON.stringify({ path: '.' })], new Map(), shards);
    const model = new Model();
    model.lines.set('.', JSON.stringify({ path: '.' }));
    for (let i = 0; i < 3000; i++) {
      const rel = `n${String((i * 7919) % 3000).padStart(5, '0')}`;
      const line = JSON.stringify({ path: rel, i });
      table.setLine(rel, line);
      model.lines.set(rel, line);
    }
    const changed = table.changedShards();
    assert.equal(changed.length, shards, `${shards}: every shard changed`);
    assert.equal(
      changed.reduce((n, c) => n + c.entries, 0),
      3001,
      `${shards}: every entry in one shard`,
    );
    for (let shard = 0; shard < shards; shard++) assert.equal(table.block(shard).toString(), model.block(shard, shards), `${shards}: shard ${shard}`);
    assert.deepEqual(table.changedShards(), [], 'none changed since');
    check(table, model, `${shards} grown`);
  }
});

test('replaceStamps: every stamp is the given map, those of non-entries included; a stamp of another length is refused', () => {
  const { table, model } = seeded();
  const fresh = new Map([...model.lines.keys()].map((rel, i) => [rel, stampOf((i * 7) % 256)] as const));
  fresh.set('ignored.swp', stampOf(9));
  table.replaceStamps(fresh);
  model.stamps = fresh;
  check(table, model, 'replaced');
  assert.equal(table.stamp('ignored.swp'), stampOf(9));
  assert.equal(table.has('ignored.swp'), false);
  assert.throws(() => table.set('a', 'short'), RangeError);
});
