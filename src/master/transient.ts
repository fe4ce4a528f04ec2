// A master that dropped the connection before answering (sshd's MaxStartups refusing new
// connections while hundreds of instances boot, a reset under load) is worth another try;
// a master that answered and refused (host key, our key, the gate) is not: waiting would
// not change its answer. Decisions pure; the retry loop takes its clock and draw as options.
import { backoffDelay, sleep, type BackoffOptions } from '../backoff.js';

/** What OpenSSH says when sshd dropped the connection before or during key exchange. */
const DROPPED = /kex_exchange_identification|Connection closed by .*port \d+|Connection reset by peer|Connection refused|ssh_exchange_identification|Broken pipe|banner exchange/i;

/** What an answering master says when it refuses: never retried, whatever else the output says. */
const REFUSED = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known|Permission denied|Permissions 0\d+ for|UNPROTECTED PRIVATE KEY FILE|Load key |pacha serve: refused|does not appear to be a git repository|not found|\[remote rejected\]|\[rejected\]/i;

/** Whether git's/ssh's output says the connection was dropped, not refused. Pure. */
export function isTransientConnectionDrop(output: string): boolean {
  return DROPPED.test(output) && !REFUSED.test(output);
}

/** 0.25 s, 0.5 s, 1 s … capped at 8 s, full jitter: a dropped connection is usually load. */
export const DROP_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 8_000, factor: 2, jitter: 1 };

export interface RetryDropsOptions {
  /** How long retries may go on, from the first attempt (ms). 0: never retry. */
  budgetMs: number;
  backoff?: BackoffOptions;
  random?: () => number;
  now?: () => number;
  /** Before sleeping for a retry. */
  onRetry?: (attempt: number, error: Error, delayMs: number) => void;
}

/**
 * Runs `attempt`, again after a jittered delay while it fails with a dropped connection and
 * the budget lasts; any other failure, or the last drop, is thrown as it came.
 */
export async function retryDroppedConnections<T>(attempt: () => Promise<T>, options: RetryDropsOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const started = now();
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const remaining = options.budgetMs - (now() - started);
      if (!isTransientConnectionDrop(message) || remaining <= 0) throw error;
      const delay = Math.min(backoffDelay(n, options.backoff ?? DROP_BACKOFF, random()), remaining);
      options.onRetry?.(n, error as Error, delay);
      await sleep(delay);
    }
  }
}
