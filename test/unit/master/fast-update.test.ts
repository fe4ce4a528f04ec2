// The one-round-trip update's script (master/fast-update.ts): pure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fastUpdateScript, patchAddsPaths, PRINTF_MAX_PACK_BYTES } from '../../../src/master/fast-update.js';
import { printfFormat } from '../../../src/master/shell-quote.js';

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
    fc.property(fc.uint8Array({ minLength: PRINTF_MAX_PACK_BYTES + 1, maxLength: PRINTF_MAX_PACK_BYTES + 12_000 }), fc.string(), (bytes, name) => {
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

/** What POSIX printf writes for a format of literal characters and \ddd escapes (the only forms printfFormat makes). */
function printfWrites(format: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < format.length; i++) {
    if (format[i] === '\\') {
      out.push(parseInt(format.slice(i + 1, i + 4), 8));
      i += 3;
    } else out.push(format.charCodeAt(i));
  }
  return Buffer.from(out);
}

test('printfFormat: one single-quoted line of printable ASCII that writes the bytes exactly (dash and bash run it: test/system/master/printf-format.test.ts)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4000 }), (bytes) => {
      const word = printfFormat(Buffer.from(bytes));
      assert.match(word, /^'[\x20-\x7e]*'$/);
      const format = word.slice(1, -1);
      assert.ok(!format.includes("'") && !format.includes('%'), 'no quote to end the word, no conversion');
      assert.ok(printfWrites(format).equals(Buffer.from(bytes)));
    }),
  );
});

test('fastUpdateScript: a small pack goes as one printf format (no process), a big one by base64', () => {
  const small = Buffer.from('PACK\0\0\0\x02 %s \\ \' \n');
  const script = fastUpdateScript({ repo: '/h/bar/foo', from: A, to: B, pack: small });
  assert.ok(script.includes(`printf ${printfFormat(small)} | git unpack-objects -q --strict || exit 93\n`));
  assert.doesNotMatch(script, /base64/);
  const big = fastUpdateScript({ repo: '/h/bar/foo', from: A, to: B, pack: Buffer.alloc(PRINTF_MAX_PACK_BYTES + 1) });
  assert.match(big, /^base64 -d <<'PACHA_PACK_END' \| git unpack-objects -q --strict \|\| exit 93$/m);
  assert.doesNotMatch(big, /printf/);
});

test('patchAddsPaths: a header line adds a path; the same words as content, or in a path, do not', () => {
  const header = (name: string) => `diff --git a/${name} b/${name}\n`;
  assert.equal(patchAddsPaths(Buffer.from(`${header('x')}new file mode 100644\nindex 0000000..e69de29\n`)), true);
  assert.equal(patchAddsPaths(Buffer.from(`${header('x')}deleted file mode 100644\n${header('y')}new file mode 120000\nindex 0..1\n--- /dev/null\n+++ b/y\n@@ -0,0 +1 @@\n+t\n`)), true);
  assert.equal(patchAddsPaths(Buffer.from(`${header('x')}index 1..2 100644\n--- a/x\n+++ b/x\n@@ -1 +1,2 @@\n-a\n+new file mode 100644\n new file mode 100755\n`)), false);
  assert.equal(patchAddsPaths(Buffer.from(`${header('new file mode 1')}old mode 100644\nnew mode 100755\n`)), false);
  assert.equal(patchAddsPaths(Buffer.alloc(0)), false);
});
