import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isWorthRetrying, nextAttemptDelay, waitForMaster } from '../../../src/boot/wait.js';
import { ConfigError, MasterError, MasterUnreachableError } from '../../../src/errors.js';

const unreachable = (): MasterUnreachableError => new MasterUnreachableError('master m unreachable: refused the connection');
const fast = { baseMs: 1, maxMs: 4, factor: 2, jitter: 1 };

describe('isWorthRetrying', () => {
  test('a master that does not answer is retried', () => {
    assert.equal(isWorthRetrying(unreachable()), true);
  });
  test('a master that answers and refuses is not: host key, credentials', () => {
    assert.equal(isWorthRetrying(new MasterUnreachableError('changed key', { code: 'EHOSTKEY' })), false);
    assert.equal(isWorthRetrying(new MasterUnreachableError('refused our key', { code: 'EAUTH' })), false);
  });
  test('other errors are not', () => {
    assert.equal(isWorthRetrying(new MasterError('no such dir')), false);
    assert.equal(isWorthRetrying(new ConfigError('bad')), false);
    assert.equal(isWorthRetrying(new Error('bug')), false);
  });
});

describe('nextAttemptDelay', () => {
  const backoff = { baseMs: 500, maxMs: 30_000, factor: 2, jitter: 1 };
  test('grows exponentially with full jitter', () => {
    assert.equal(nextAttemptDelay(1, 0, 300_000, backoff, 0.999999), 500);
    assert.equal(nextAttemptDelay(4, 0, 300_000, backoff, 0.999999), 4000);
    assert.equal(nextAttemptDelay(20, 0, 300_000, backoff, 0.999999), 30_000);
    assert.equal(nextAttemptDelay(4, 0, 300_000, backoff, 0), 0);
  });
  test('never sleeps past the deadline; gives up at it', () => {
    assert.equal(nextAttemptDelay(20, 299_000, 300_000, backoff, 0.999999), 1000);
    assert.equal(nextAttemptDelay(1, 300_000, 300_000, backoff, 0.5), undefined);
  });
});

describe('waitForMaster', () => {
  test('retries until the master answers and counts the attempts', async () => {
    let calls = 0;
    const retries: number[] = [];
    const waited = await waitForMaster({
      probe: async () => {
        calls++;
        if (calls < 3) throw unreachable();
        return 'listing';
      },
      timeoutMs: 10_000,
      label: 'm',
      backoff: fast,
      onRetry: (attempt) => retries.push(attempt),
    });
    assert.equal(waited.value, 'listing');
    assert.equal(waited.attempts, 3);
    assert.deepEqual(retries, [1, 2]);
  });

  test('a refusal fails at once, unwrapped', async () => {
    let calls = 0;
    const refusal = new MasterUnreachableError('changed key', { code: 'EHOSTKEY' });
    await assert.rejects(
      waitForMaster({ probe: async () => { calls++; throw refusal; }, timeoutMs: 10_000, label: 'm', backoff: fast }),
      (error) => error === refusal,
    );
    assert.equal(calls, 1);
  });

  test('a master that never answers: EBOOTTIMEOUT (exit 3) naming the master, the timeout and the last error', async () => {
    await assert.rejects(
      waitForMaster({ probe: async () => { throw unreachable(); }, timeoutMs: 50, label: 'bar_user@m:22', backoff: fast }),
      (error: unknown) => {
        assert.ok(error instanceof MasterUnreachableError);
        assert.equal(error.code, 'EBOOTTIMEOUT');
        assert.equal(error.exitCode, 3);
        assert.match(error.message, /bar_user@m:22 did not answer within 0\.1 s/);
        assert.match(error.message, /refused the connection/);
        return true;
      },
    );
  });

  test('an attempt that hangs is cut at the deadline', async () => {
    await assert.rejects(
      waitForMaster({ probe: () => new Promise<never>(() => undefined), timeoutMs: 30, label: 'm', backoff: fast }),
      (error: unknown) => error instanceof MasterUnreachableError && /no attempt finished in time/.test(error.message),
    );
  });

  test('maxAttempts: 1 asks once', async () => {
    let calls = 0;
    await assert.rejects(
      waitForMaster({ probe: async () => { calls++; throw unreachable(); }, timeoutMs: 10_000, label: 'm', backoff: fast, maxAttempts: 1 }),
      /master m did not answer after 1 attempt; last error: master m unreachable/,
    );
    assert.equal(calls, 1);
  });
});
