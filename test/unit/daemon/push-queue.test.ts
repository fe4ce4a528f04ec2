import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MasterUnreachableError } from '../../../src/errors.js';
import { afterPush, PushQueue, type PushEvent } from '../../../src/daemon/push-queue.js';
import type { PushResult, TrackedPath } from '../../../src/store/store.js';

const tracked = { location: '/etc/app', name: 'app', single: false, gitDir: '/state/repos/app.git' } as TrackedPath;
const options = { backoff: { baseMs: 100, maxMs: 1000, jitter: 1 }, divergedRetryMs: 600_000 };
const down = () => new MasterUnreachableError('master down');

test('afterPush: failures back off exponentially with jitter; a success resets; a divergence waits long', () => {
  assert.deepEqual(afterPush({ ok: false, error: down() }, 0, options, 0.5), { failures: 1, retryInMs: 50 });
  assert.deepEqual(afterPush({ ok: false, error: down() }, 3, options, 0.5), { failures: 4, retryInMs: 400 });
  assert.deepEqual(afterPush({ ok: false, error: down() }, 30, options, 0.999999), { failures: 31, retryInMs: 1000 });
  assert.deepEqual(afterPush({ ok: true, result: { status: 'pushed', sha: 'a', commits: 2 } }, 7, options, 0.5), { failures: 0, retryInMs: undefined });
  assert.deepEqual(afterPush({ ok: true, result: { status: 'diverged', ref: 'r' } }, 2, options, 0.5), { failures: 0, retryInMs: 600_000 });
});

/** A push function playing back results, and the queue's events. */
function scripted(results: Array<PushResult | Error>, queueOptions: { divergedRetryMs?: number } = {}) {
  const events: PushEvent[] = [];
  let calls = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const queue = new PushQueue({
    backoff: { baseMs: 1, maxMs: 5 },
    divergedRetryMs: queueOptions.divergedRetryMs ?? 1,
    random: () => 0.5,
    async push() {
      const r = results[calls++];
      if (calls >= results.length) setImmediate(done);
      if (r === undefined) return { status: 'up-to-date' };
      if (r instanceof Error) throw r;
      return r;
    },
    onEvent: (e) => events.push(e),
  });
  return { queue, events, finished, calls: () => calls };
}

test('a master down for a while: retried until it answers, then everything pushed at once', async () => {
  const s = scripted([down(), down(), down(), { status: 'pushed', sha: 'abc', commits: 5 }]);
  s.queue.request(tracked);
  await s.finished;
  assert.deepEqual(
    s.events.map((e) => (e.kind === 'failed' ? `failed#${e.attempt}` : e.kind)),
    ['failed#1', 'failed#2', 'failed#3', 'pushed'],
  );
  assert.equal(s.calls(), 4);
  s.queue.close();
});

test('requests during a push coalesce into one more push', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let calls = 0;
  const queue = new PushQueue({
    async push() {
      calls++;
      if (calls === 1) await gate;
      return { status: 'pushed', sha: String(calls), commits: 1 };
    },
    onEvent: () => undefined,
  });
  queue.request(tracked);
  queue.request(tracked);
  queue.request(tracked);
  assert.equal(calls, 1);
  release();
  await queue.drain();
  assert.equal(calls, 2);
});

test('a divergence is loud once; commits meanwhile do not push; a later success clears it', async () => {
  const s = scripted(
    [{ status: 'diverged', ref: 'refs/pacha/diverged/h/1' }, { status: 'diverged', ref: 'refs/pacha/diverged/h/2' }, { status: 'pushed', sha: 's', commits: 3 }],
    { divergedRetryMs: 300 }, // long enough that the retry never fires before the second request on a loaded machine
  );
  s.queue.request(tracked);
  await new Promise((r) => setImmediate(r));
  s.queue.request(tracked); // a new commit while diverged: waits for the slow retry
  assert.equal(s.calls(), 1);
  await s.finished;
  assert.deepEqual(
    s.events.map((e) => (e.kind === 'diverged' ? `diverged first=${e.first}` : e.kind)),
    ['diverged first=true', 'diverged first=false', 'pushed'],
  );
  s.queue.close();
});

test('drain: a path waiting for a retry gets one attempt now, then nothing more', async () => {
  let calls = 0;
  const queue = new PushQueue({
    backoff: { baseMs: 3_600_000, maxMs: 3_600_000, jitter: 0 },
    async push() {
      calls++;
      throw down();
    },
    onEvent: () => undefined,
  });
  queue.request(tracked);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(calls, 1);
  await queue.drain(); // would otherwise wait an hour
  assert.equal(calls, 2);
  queue.request(tracked);
  assert.equal(calls, 2);
});
