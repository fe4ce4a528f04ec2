// The printf format a small pack travels in (master/shell-quote.ts printfFormat, used by
// master/fast-update.ts): the shells a master's `sh` may be write exactly its bytes — NUL,
// line breaks, quotes, % and \ included — and so does an external printf (a shell without
// the builtin), up to the biggest pack that goes this way.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import { PRINTF_MAX_PACK_BYTES } from '../../../src/master/fast-update.js';
import { printfFormat } from '../../../src/master/shell-quote.js';

const SHELLS = ['dash', 'bash'];
const run = (shell: string, script: string): Buffer => execFileSync(shell, ['-c', script], { maxBuffer: 1024 * 1024 });

test('dash and bash: printf of the format writes the bytes exactly', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
      const script = `printf ${printfFormat(Buffer.from(bytes))}`;
      for (const shell of SHELLS) assert.ok(run(shell, script).equals(Buffer.from(bytes)), shell);
    }),
    { numRuns: 40 },
  );
});

test("bytes starting with '-' are no option to printf", () => {
  for (const bytes of [Buffer.from([45, 0]), Buffer.from('-n x'), Buffer.from('--'), Buffer.from('-')]) {
    for (const shell of SHELLS) assert.ok(run(shell, `printf ${printfFormat(bytes)}`).equals(bytes), `${shell}: ${JSON.stringify(bytes.toString('latin1'))}`);
    assert.ok(run('sh', `command -p env printf ${printfFormat(bytes)}`).equals(bytes), 'an external printf');
  }
});

test('the biggest pack that goes as a format, every byte value in it: builtins and the external printf write it', () => {
  const bytes = Buffer.alloc(PRINTF_MAX_PACK_BYTES);
  // The worst case for the format's length: bytes that all need an escape, every value present.
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 2 === 0 ? i % 256 : 0;
  const format = printfFormat(bytes);
  assert.ok(format.length < 128 * 1024, `${format.length} characters: one argument of an external printf`);
  for (const shell of SHELLS) assert.ok(run(shell, `printf ${format}`).equals(bytes), shell);
  assert.ok(run('sh', `command -p env printf ${format}`).equals(bytes), 'an external printf');
});
