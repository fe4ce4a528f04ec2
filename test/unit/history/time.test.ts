// REV as a time: relative, named, ISO and epoch forms; anything else is not a time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTime } from '../../../src/history/time.js';

const now = new Date('2026-03-31T12:00:00Z');
const iso = (text: string): string | undefined => parseTime(text, now)?.toISOString();

test('relative times count back from now', () => {
  assert.equal(iso('2 hours ago'), '2026-03-31T10:00:00.000Z');
  assert.equal(iso('1 hour ago'), '2026-03-31T11:00:00.000Z');
  assert.equal(iso('an hour ago'), '2026-03-31T11:00:00.000Z');
  assert.equal(iso('90 minutes ago'), '2026-03-31T10:30:00.000Z');
  assert.equal(iso('30 secs ago'), '2026-03-31T11:59:30.000Z');
  assert.equal(iso('3 Days Ago'), '2026-03-28T12:00:00.000Z');
  assert.equal(iso('2 weeks ago'), '2026-03-17T12:00:00.000Z');
  assert.equal(iso('yesterday'), '2026-03-30T12:00:00.000Z');
  assert.equal(iso('now'), '2026-03-31T12:00:00.000Z');
  assert.equal(iso('  0 seconds ago '), '2026-03-31T12:00:00.000Z');
});

test('months and years are calendar months', () => {
  const date = parseTime('1 year ago', now)!;
  assert.equal(date.getFullYear(), now.getFullYear() - 1);
  assert.equal(parseTime('2 months ago', new Date(2026, 5, 15, 9, 0))!.getMonth(), 3);
});

test('ISO times: with a zone as given, without one in local time, a date alone at local midnight', () => {
  assert.equal(iso('2024-05-01T12:00:00Z'), '2024-05-01T12:00:00.000Z');
  assert.equal(iso('2024-05-01T14:00:00+02:00'), '2024-05-01T12:00:00.000Z');
  assert.equal(iso('2024-05-01 14:00 +0200'), '2024-05-01T12:00:00.000Z');
  assert.equal(parseTime('2024-05-01T12:30', now)!.getTime(), new Date(2024, 4, 1, 12, 30).getTime());
  assert.equal(parseTime('2024-05-01', now)!.getTime(), new Date(2024, 4, 1, 0, 0).getTime());
  assert.equal(iso('@1700000000'), '2023-11-14T22:13:20.000Z');
});

test('anything else is not a time (a commit, a typo)', () => {
  for (const text of ['HEAD~2', 'abc123', 'main', '2 hours', 'ago', 'two hours ago', '2024-13-45', '2024-05-01T25:00', 'tomorrow', '']) {
    assert.equal(parseTime(text, now), undefined, text);
  }
});
