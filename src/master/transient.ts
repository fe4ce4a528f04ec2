// A master that dropped the connection before answering (sshd's MaxStartups refusing new
// connections while hundreds of instances boot, a reset under load) is worth another try;
// a master that answered and refused (host key, our key, the gate) is not: waiting would
// not change its answer. Decisions pure; the retry loop takes its clock and draw as options.
import { backoffDelay, sleep, type BackoffOptions } from '../backoff.js';

/**
 * What OpenSSH says when sshd dropped the connection before or during key exchange, or did
 * not accept it within ConnectTimeout (its listen queue full while hundreds connect at once).
 */
const DROPPED = /kex_exchange_identification|Connection closed by .*port \d+|Connection reset by peer|Connection refused|ssh_exchange_identification|Broken pipe|banner exchange|connect to host .* (Connection|Operation) timed out/i;

/** What an answering master says when it refuses: never retried, whatever else the output says. */
const REFUSED = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known|Permission denied|Permissions 0\d+ for|UNPROTECTED PRIVATE KEY FILE|Load key |pacha serve: refused|does not appear to be a git repository|not found|\[remote rejected\]|\[rejected\]/i;

/** What ssh2 says when the connection went before it was ready, or under a pending request. */
const SSH2_DROPPED = /Connection lost before handshake|No response from server|Not connected|ECONNRESET|EPIPE|ECONNREFUSED|Keepalive timeout|did not answer within|connection to the master was lost/i;

/** Codes of a master that answered and refused (or of our own key): never retried. */
const REFUSED_CODES = new Set(['EHOSTKEY', 'EAUTH', 'ENOKEY', 'EBADKEY', 'EPUSHKEY', 'EGATE', 'EGATED', 'EHOSTSPATH', 'ENOSFTP']);

/** Whether git's/ssh's output says the connection was dropped, not refused. Pure. */
export function isTransientConnectionDrop(output: string): boolean {
  return DROPPED.test(output) && !REFUSED.test(output);
}

/** An error's message with its causes' (a wrapped git failure keeps ssh's words in its cause). */
function messages(error: unknown): { text: string; codes: string[] } {
  const texts: string[] = [];
  const codes: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    texts.push(e instanceof Error ? e.message : String(e));
    if (typeof e === 'object' && 'code' in e && typeof e.code === 'string') codes.push(e.code);
    e = typeof e === 'object' && 'cause' in e ? e.cause : undefined;
  }
  return { text: texts.join('\n'), codes };
}

/**
 * Whether a failure is a connection the master dropped (OpenSSH's words through git, or
 * ssh2's connection lost before it was ready or under a request), not a refusal. Pure.
 */
export function isDroppedConnection(error: unknown): boolean {
  const { text, codes } = messages(error);
  if (REFUSED.test(text) || codes.some((c) => REFUSED_CODES.has(c))) return false;
  return DROPPED.test(text) || SSH2_DROPPED.test(text);
}

/** No retries: what a command other than boot gets (the daemon has its own retry). */
export const NO_DROP_RETRY: RetryDropsOptions = { budgetMs: 0 };

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
      const remaining = options.budgetMs - (now() - started);
      if (!isDroppedConnection(error) || remaining <= 0) throw error;
      const delay = Math.min(backoffDelay(n, options.backoff ?? DROP_BACKOFF, random()), remaining);
      options.onRetry?.(n, error as Error, delay);
      await sleep(delay);
    }
  }
}
