import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addEvent, commitAt, decide, DEFAULT_SCHEDULE } from '../../src/daemon/schedule.js';

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
