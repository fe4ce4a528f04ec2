import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { unquoteGitArgument } from '../../../src/master/gate/decide.js';
import { FLUSH_PKT, MAX_PKT_LENGTH, demuxSideBand, encodePkt, fetchRequest, isSafeRefName, parseAdvertisement, parseShallowLines, splitPkt, type Pkt } from '../../../src/master/pkt-line.js';
import { gitQuote } from '../../../src/master/shell-quote.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

/** Every pkt-line in a byte string, as splitPkt reads them. */
function splitAll(bytes: Buffer): Pkt[] {
  const out: Pkt[] = [];
  for (let rest = bytes; rest.length > 0; ) {
    const next = splitPkt(rest);
    assert.ok(next, 'a whole pkt-line');
    out.push(next.pkt);
    rest = rest.subarray(next.size);
  }
  return out;
}

test('pkt-lines round-trip: what encodePkt writes, splitPkt reads back, whatever the bytes', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 })), (payloads) => {
      const bytes = Buffer.concat([...payloads.map((p) => encodePkt(Buffer.from(p))), FLUSH_PKT]);
      const pkts = splitAll(bytes);
      assert.equal(pkts.length, payloads.length + 1);
      payloads.forEach((p, i) => assert.deepEqual(pkts[i], { kind: 'data', payload: Buffer.from(p) }));
      assert.deepEqual(pkts.at(-1), { kind: 'flush' });
    }),
  );
});

test('a pkt-line cut short is not read yet; a bad or out-of-range length is an error, not a guess', () => {
  const whole = encodePkt('want x\n');
  for (let n = 0; n < whole.length; n++) assert.equal(splitPkt(whole.subarray(0, n)), undefined);
  assert.throws(() => splitPkt(Buffer.from('zz12abcd')), /not a pkt-line/);
  assert.throws(() => splitPkt(Buffer.from('0003')), /length 3/);
  assert.throws(() => splitPkt(Buffer.from('fff1')), /length 65521/);
  assert.throws(() => encodePkt(Buffer.alloc(MAX_PKT_LENGTH - 3)), /longer than git's/);
});

test('the advertisement: refs with their objects, capabilities from the first line; HEAD and peeled tags left out', () => {
  const lines = [`${A} HEAD\0multi_ack side-band-64k shallow ofs-delta agent=git/2.47\n`, `${A} refs/heads/master\n`, `${B} refs/pacha/heartbeat\n`, `${B} refs/tags/v1^{}\n`].map((l) => Buffer.from(l));
  const ad = parseAdvertisement(lines);
  assert.deepEqual([...ad.refs], [
    ['refs/heads/master', A],
    ['refs/pacha/heartbeat', B],
  ]);
  assert.ok(ad.capabilities.has('side-band-64k') && ad.capabilities.has('shallow'));
  // An empty repository names no ref.
  assert.equal(parseAdvertisement([Buffer.from(`${'0'.repeat(40)} capabilities^{}\0side-band-64k\n`)]).refs.size, 0);
});

test('a hostile advertisement is refused: ERR, a bad object name, a ref name that could say something else to update-ref', () => {
  assert.throws(() => parseAdvertisement([Buffer.from('ERR access denied\n')]), /the master refused: access denied/);
  assert.throws(() => parseAdvertisement([Buffer.from(`${A.slice(1)}x refs/heads/master\n`)]), /not a ref advertisement line/);
  for (const name of ['refs/heads/a b', 'refs/heads/x\nupdate refs/heads/y', 'refs/heads/../../x', 'refs/heads/.hidden', 'refs/heads/x.lock', 'HEADS/x', 'refs/heads/a@{1}', 'refs/heads/', 'refs/heads/a\\b']) {
    assert.throws(() => parseAdvertisement([Buffer.from(`${A} HEAD\0side-band-64k\n`), Buffer.from(`${A} ${name}\n`)]), /will not set/, name);
  }
  fc.assert(
    fc.property(fc.string(), (name) => {
      // Whatever is accepted can never carry a blank or a line break into update-ref's input.
      if (isSafeRefName(name)) assert.ok(!/[\s\0]/.test(name) && name.startsWith('refs/'));
    }),
  );
});

test('the request: wants deduplicated, the first with the capabilities the master offered; a depth only where it offers shallow', () => {
  const offered = new Set(['side-band-64k', 'side-band', 'ofs-delta', 'shallow', 'no-progress']);
  const text = fetchRequest({ wants: [A, B, A], depth: 1, capabilities: offered }).toString();
  assert.equal(text, [`${(51 + 'side-band-64k ofs-delta no-progress shallow agent=pacha'.length).toString(16).padStart(4, '0')}want ${A} side-band-64k ofs-delta no-progress shallow agent=pacha\n`, `0032want ${B}\n`, '000ddeepen 1\n', '0000'].join(''));
  const noShallow = fetchRequest({ wants: [A], depth: 1, capabilities: new Set(['side-band']) }).toString();
  assert.ok(!noShallow.includes('deepen') && noShallow.includes('side-band agent=pacha'));
  assert.equal(fetchRequest({ wants: [], capabilities: offered }).toString(), '0000');
  assert.throws(() => fetchRequest({ wants: ['HEAD'], capabilities: offered }), /not an object name/);
});

test('the shallow answer and the side band: checked, never guessed', () => {
  assert.deepEqual(parseShallowLines([Buffer.from(`shallow ${A}\n`), Buffer.from(`unshallow ${B}\n`)]), [A]);
  assert.throws(() => parseShallowLines([Buffer.from('shallow ../x\n')]), /not a shallow line/);
  assert.deepEqual(demuxSideBand(Buffer.from([1, 80, 65])), { band: 'pack', data: Buffer.from('PA') });
  assert.deepEqual(demuxSideBand(Buffer.from('\x02Counting objects')), { band: 'progress' });
  assert.deepEqual(demuxSideBand(Buffer.from('\x03fatal: out of memory\n')), { band: 'error', message: 'fatal: out of memory' });
  assert.throws(() => demuxSideBand(Buffer.from('\x07x')), /channel 7/);
});

test("git-upload-pack's path is quoted as git quotes it, and the gate reads back exactly that path", () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), (dir) => {
      assert.equal(unquoteGitArgument(gitQuote(dir)), dir);
    }),
  );
  assert.equal(gitQuote("/srv/it's!"), "'/srv/it'\\''s'\\!''");
});
