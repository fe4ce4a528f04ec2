import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import fc from 'fast-check';
import { FLUSH_PKT, encodePkt, type Pkt } from '../../../src/master/pkt-line.js';
import { EndedEarly, PktReader } from '../../../src/master/pkt-reader.js';

/** Write `bytes` into a stream cut at `cuts` (fractions), then end it unless `keepOpen`. */
function streamOf(bytes: Buffer, cuts: number[], keepOpen = false): PassThrough {
  const stream = new PassThrough();
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...at, bytes.length]) {
    if (to > from) stream.write(bytes.subarray(from, to));
    from = Math.max(from, to);
  }
  if (!keepOpen) stream.end();
  return stream;
}

async function readAll(reader: PktReader): Promise<Pkt[]> {
  const out: Pkt[] = [];
  for (let pkt = await reader.next(); pkt; pkt = await reader.next()) out.push(pkt);
  return out;
}

const payload = fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((b) => Buffer.from(b));

test('whatever the chunks, the reader gives back the pkt-lines written (flushes too)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.option(payload, { nil: undefined }), { maxLength: 30 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }), async (items, cuts) => {
      const bytes = Buffer.concat(items.map((p) => (p ? encodePkt(p) : FLUSH_PKT)));
      const got = await readAll(new PktReader(streamOf(bytes, cuts), 5000));
      assert.deepEqual(
        got.map((p) => (p.kind === 'flush' ? undefined : Buffer.from(p.payload))),
        items,
      );
    }),
  );
});

test('nextPieces: the payload in the pieces it arrived in, one per chunk it spans', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(payload, { minLength: 1, maxLength: 10 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }), async (items, cuts) => {
      const bytes = Buffer.concat(items.map((p) => encodePkt(p)));
      const reader = new PktReader(streamOf(bytes, cuts), 5000);
      for (const item of items) {
        const pkt = await reader.nextPieces();
        assert.ok(pkt?.kind === 'data');
        assert.ok(Buffer.concat(pkt.pieces).equals(item));
        assert.ok(pkt.pieces.every((piece) => piece.length > 0));
        assert.ok(pkt.pieces.length <= cuts.length + 1, 'never more pieces than chunks');
      }
      assert.equal(await reader.nextPieces(), undefined);
    }),
  );
});

test('more than the reader queues before pausing the stream: every byte arrives, in order', async () => {
  const pkts = Array.from({ length: 100 }, (_, i) => Buffer.alloc(65000, i));
  const stream = new PassThrough();
  const reader = new PktReader(stream, 5000);
  const writing = (async () => {
    for (const p of pkts) if (!stream.write(encodePkt(p))) await new Promise((r) => stream.once('drain', r));
    stream.end();
  })();
  const got = await readAll(reader);
  await writing;
  assert.equal(got.length, pkts.length);
  got.forEach((p, i) => assert.ok(p.kind === 'data' && p.payload.equals(pkts[i]!), `pkt ${i}`));
});

test('a stream that ends inside a pkt-line, or with its length cut, is an early end; bad lengths and ERR are refused', async () => {
  const whole = encodePkt('hello\n');
  for (const cut of [1, 3, 5, whole.length - 1]) {
    await assert.rejects(new PktReader(streamOf(whole.subarray(0, cut), [0.5]), 5000).next(), (e: unknown) => e instanceof EndedEarly && /middle of a pkt-line/.test((e as Error).message));
  }
  await assert.rejects(new PktReader(streamOf(Buffer.from('zz12abcd'), []), 5000).next(), /not a pkt-line/);
  await assert.rejects(new PktReader(streamOf(Buffer.from('0003'), []), 5000).next(), /length 3/);
  await assert.rejects(new PktReader(streamOf(encodePkt('a\n'), []), 5000).untilFlush('the list'), (e: unknown) => e instanceof EndedEarly && /during the list/.test((e as Error).message));
  await assert.rejects(new PktReader(streamOf(Buffer.concat([encodePkt('ERR no access\n'), FLUSH_PKT]), []), 5000).untilFlush('the list'), /the master refused: no access/);
});

test('silence while a pkt-line is awaited is an error; a stream error is passed on', async () => {
  const silent = streamOf(encodePkt('hello\n').subarray(0, 6), [], true);
  const started = Date.now();
  await assert.rejects(new PktReader(silent, 200).next(), /did not answer within 0\.2 s/);
  assert.ok(Date.now() - started >= 190);
  const broken = new PassThrough();
  const reader = new PktReader(broken, 5000);
  const next = reader.next();
  broken.destroy(new Error('connection reset'));
  await assert.rejects(next, /connection reset/);
});
