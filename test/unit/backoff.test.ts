import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../src/backoff.js';

test('backoff grows exponentially and is capped (no jitter)', () => {
  const o = { baseMs: 100, maxMs: 1000, jitter: 0 };
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, o, 0.5)), [100, 200, 400, 800, 1000, 1000]);
});

test('full jitter spans [0, ceiling]', () => {
  const o = { baseMs: 100, maxMs: 10_000 };
  assert.equal(backoffDelay(3, o, 0), 0);
  assert.equal(backoffDelay(3, o, 0.999999), 400);
  assert.equal(backoffDelay(3, o, 0.5), 200);
});

test('partial jitter keeps a floor', () => {
  assert.equal(backoffDelay(2, { baseMs: 100, maxMs: 10_000, jitter: 0.5 }, 0), 100);
});

test('huge attempt numbers stay finite and capped', () => {
  assert.equal(backoffDelay(10_000, { baseMs: 100, maxMs: 5000, jitter: 0 }), 5000);
});
