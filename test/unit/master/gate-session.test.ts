// A kept gate session's request line (decide.ts, decideSessionLine): pure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decideSessionLine } from '../../../src/master/gate/decide.js';
import { sessionUpdateLine } from '../../../src/master/gate/protocol.js';
import { FAST_UPDATE_MAX_PACK_BYTES, isObjectName } from '../../../src/master/fast-update.js';
import { repositoryNameProblem } from '../../../src/master/layout.js';

const A = 'a'.repeat(40);
const B = '0123456789abcdef0123456789abcdef01234567';

test('decideSessionLine: what the client sends for a repository pacha makes is allowed, and read back exactly', () => {
  for (const name of ['etc', 'opt-foo', 'nginx.conf_1']) {
    const line = sessionUpdateLine(name, A, B, 1234).replace(/\n$/, '');
    assert.deepEqual(decideSessionLine(line), { allowed: true, update: { name, from: A, to: B, bytes: 1234 } });
  }
});

test('decideSessionLine: nothing generated is allowed unless every word is what pacha makes (no host, no path, no revision expression)', () => {
  const piece = fc.constantFrom('etc', '..', '.', '.git', 'pacha_pre', 'bravo/etc', '/etc', '$(id)', '', ' ', '\n', 'é', A, B, 'HEAD', 'main', `${A}^`, '-1', '01', String(FAST_UPDATE_MAX_PACK_BYTES + 1), '99999999999', '0', '12');
  const line = fc.oneof(
    fc.array(piece, { maxLength: 6 }).map((w) => ['apply-update', ...w].join(' ')),
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
  );
  fc.assert(
    fc.property(line, (l) => {
      const d = decideSessionLine(l);
      if (!d.allowed) return;
      assert.equal(repositoryNameProblem(d.update.name), undefined, l);
      assert.ok(isObjectName(d.update.from) && isObjectName(d.update.to), l);
      assert.ok(Number.isInteger(d.update.bytes) && d.update.bytes >= 0 && d.update.bytes <= FAST_UPDATE_MAX_PACK_BYTES, l);
      assert.equal(sessionUpdateLine(d.update.name, d.update.from, d.update.to, d.update.bytes), `${l}\n`, 'exactly one way to say it');
    }),
    { numRuns: 2000 },
  );
  assert.equal(decideSessionLine(`apply-update etc ${A} ${B} ${FAST_UPDATE_MAX_PACK_BYTES + 1}`).allowed, false);
  assert.equal(decideSessionLine(`apply-update ../bravo ${A} ${B} 1`).allowed, false);
  assert.equal(decideSessionLine(`apply-update etc HEAD ${B} 1`).allowed, false);
  assert.equal(decideSessionLine(`apply-update etc ${A} ${B} 1 extra`).allowed, false);
  assert.equal(decideSessionLine(`apply-update  etc ${A} ${B} 1`).allowed, false);
});
