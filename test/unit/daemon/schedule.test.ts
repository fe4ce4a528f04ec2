import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addEvent, commitAt, decide, DEFAULT_SCHEDULE, SETTLE_MS } from '../../../src/daemon/schedule.js';

const o = DEFAULT_SCHEDULE; // 200 ms quiet, 2000 ms cap

test('a single event is committed after the quiet time', () => {
  const p = addEvent(undefined, 1000);
  assert.equal(commitAt(p, o), 1200);
  assert.deepEqual(decide(p, 1100, o), { action: 'wait', ms: 100 });
  assert.deepEqual(decide(p, 1200, o), { action: 'commit' });
});

test('each new event pushes the quiet time back', () => {
  let p = addEvent(undefined, 1000);
  p = addEvent(p, 1150);
  assert.equal(commitAt(p, o), 1350);
  assert.deepEqual(decide(p, 1200, o), { action: 'wait', ms: 150 });
});

test('a continuous stream is committed at the cap', () => {
  let p = addEvent(undefined, 0);
  for (let t = 100; t <= 5000; t += 100) p = addEvent(p, t);
  assert.equal(commitAt(p, o), 2000);
  assert.deepEqual(decide(p, 2000, o), { action: 'commit' });
  assert.deepEqual(decide(p, 1999, o), { action: 'wait', ms: 1 });
});

test('addEvent keeps the first and the latest time, whatever the order', () => {
  assert.deepEqual(addEvent({ firstAt: 500, lastAt: 900 }, 700), { firstAt: 500, lastAt: 900 });
  assert.deepEqual(addEvent({ firstAt: 500, lastAt: 900 }, 400), { firstAt: 400, lastAt: 900 });
});

test('zero delay commits at once; a cap shorter than the delay wins', () => {
  assert.deepEqual(decide({ firstAt: 10, lastAt: 10 }, 10, { delayMs: 0, maxDelayMs: 2000 }), { action: 'commit' });
  assert.equal(commitAt({ firstAt: 10, lastAt: 10 }, { delayMs: 500, maxDelayMs: 100 }), 110);
});

test('negative settings are treated as zero', () => {
  assert.equal(commitAt({ firstAt: 10, lastAt: 20 }, { delayMs: -5, maxDelayMs: 1000 }), 20);
});

test('adaptive: a window that opens after quiet commits SETTLE_MS after its last event; one inside a stream waits delayMs', () => {
  const o = { delayMs: 200, maxDelayMs: 2000 };
  const first = addEvent(undefined, 1000, null);
  assert.equal(commitAt(first, o), 1000 + SETTLE_MS, 'the first event ever: at once');
  assert.equal(commitAt(addEvent(first, 1005), o), 1005 + SETTLE_MS, "an editor's save settles");
  assert.equal(commitAt(addEvent(undefined, 5000, 1000), o), 5000 + SETTLE_MS, 'after 4 s of quiet: at once');
  assert.equal(commitAt(addEvent(undefined, 1100, 1000), o), 1300, 'inside a stream (last event 100 ms before): delayMs');
  let burst = addEvent(undefined, 0, null);
  for (let t = 1; t <= 5000; t += 1) burst = addEvent(burst, t);
  assert.equal(commitAt(burst, o), 2000, 'a stream that never pauses is still capped');
  assert.equal(commitAt(addEvent(undefined, 10, null), { delayMs: 0, maxDelayMs: 2000 }), 10, 'delay 0: no wait at all');
});
