import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_STRETCH, nextReconcilePeriod } from '../../../src/daemon/reconcile-pace.js';

const F = 60_000;
const quiet = { missed: false, unwatched: false };

test('empty reconciles stretch the period by doubling, up to MAX_STRETCH × pacha.frequency', () => {
  const periods: number[] = [];
  let p: number | undefined = F;
  for (let i = 0; i < 6; i++) periods.push((p = nextReconcilePeriod(F, p, quiet)));
  assert.deepEqual(periods, [2 * F, 4 * F, 8 * F, 8 * F, 8 * F, 8 * F]);
  assert.equal(MAX_STRETCH, 8);
});

test('a change inotify missed brings the period back to pacha.frequency at once', () => {
  assert.equal(nextReconcilePeriod(F, 8 * F, { missed: true, unwatched: false }), F);
});

test('a path without a working watch (degraded, or a suspected lost queue) keeps the period at pacha.frequency', () => {
  assert.equal(nextReconcilePeriod(F, 4 * F, { missed: false, unwatched: true }), F);
  assert.equal(nextReconcilePeriod(F, F, { missed: false, unwatched: true }), F);
});

test('a lowered pacha.frequency (SIGHUP) bounds the next period by the new value', () => {
  assert.equal(nextReconcilePeriod(10_000, 8 * F, quiet), 80_000);
  assert.equal(nextReconcilePeriod(F, undefined, quiet), F);
});
