// The one-round-trip update's script (master/fast-update.ts): pure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fastUpdateScript } from '../../../src/master/fast-update.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

test('fastUpdateScript: names must be object names (nothing else reaches the shell unquoted)', () => {
  for (const bad of ['', 'main', `${A};rm -rf /`, A.toUpperCase(), `${A}\n`, 'a'.repeat(39)]) {
    assert.throws(() => fastUpdateScript({ repo: '/h/bar/foo', from: bad, to: B, pack: Buffer.alloc(0) }));
    assert.throws(() => fastUpdateScript({ repo: '/h/bar/foo', from: A, to: bad, pack: Buffer.alloc(0) }));
  }
});

test('fastUpdateScript: no pack ends the heredoc early, the repository path is one quoted word, nothing reads the session', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12_000 }), fc.string(), (bytes, name) => {
      const repo = `/hosts/bar/${name}`;
      const script = fastUpdateScript({ repo, from: A, to: B, pack: Buffer.from(bytes) });
      const lines = script.split('\n');
      const start = lines.findIndex((l) => l.startsWith('base64 -d <<'));
      const end = lines.indexOf('PACHA_PACK_END');
      assert.ok(start > 0 && end > start);
      assert.equal(lines.slice(start + 1, end).join(''), Buffer.from(bytes).toString('base64'));
      assert.equal(lines.at(-1), ') </dev/null >&2');
    }),
  );
  const script = fastUpdateScript({ repo: "/h/bar/it's $(x)", from: A, to: B, pack: Buffer.from('PACK') });
  assert.match(script, /^cd '\/h\/bar\/it'\\''s \$\(x\)' && /m);
  assert.match(fastUpdateScript({ repo: '/h', from: A, to: B, pack: Buffer.alloc(0), gc: true }), /gc --auto/);
  assert.doesNotMatch(script, /gc --auto/);
});
