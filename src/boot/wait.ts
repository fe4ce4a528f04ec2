// `pacha boot`, step 7: wait for the master, with exponential backoff and full jitter, up to
// pacha.boot.timeout: hundreds of instances booting together must spread their retries
// instead of stampeding the master. Only "not answering" is waited for; a master that
// answers and refuses (a wrong host key, our key not authorized) fails at once: waiting
// would not change its answer.
import { backoffDelay, sleep, type BackoffOptions } from '../backoff.js';
import { ExitCode, MasterUnreachableError, isPachaError, type ErrorCode } from '../errors.js';
import { isDroppedConnection } from '../master/transient.js';

/** 0.5 s, 1 s, 2 s … capped at 30 s, each drawn in [0, delay]. */
export const BOOT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000, factor: 2, jitter: 1 };

/** Codes of a master that answered: retrying cannot help. */
const DEFINITIVE = new Set<ErrorCode>(['EHOSTKEY', 'EAUTH', 'ENOKEY', 'EBADKEY']);

/**
 * Whether a failed attempt is worth another: the master is unreachable, or dropped the
 * connection under a request (ssh2's "No response from server"), not refusing. Pure.
 */
export function isWorthRetrying(error: unknown): boolean {
  if (isPachaError(error) && DEFINITIVE.has(error.code)) return false;
  return (isPachaError(error) && error.exitCode === ExitCode.unreachable) || isDroppedConnection(error);
}

/**
 * When to try next, or undefined to give up: the next jittered delay, cut so that the next
 * attempt still starts before the deadline. Pure.
 */
export function nextAttemptDelay(attempt: number, elapsedMs: number, timeoutMs: number, backoff: BackoffOptions, random: number): number | undefined {
  const remaining = timeoutMs - elapsedMs;
  if (remaining <= 0) return undefined;
  return Math.min(backoffDelay(attempt, backoff, random), remaining);
}

export interface WaitOptions<T> {
  /** One attempt: resolves with the master's answer, throws a PachaError otherwise. */
  probe: () => Promise<T>;
  timeoutMs: number;
  /** For the error ("bar_user@master:22"). */
  label: string;
  backoff?: BackoffOptions;
  /** Give up after this many attempts even with time left (a dry run asks once). */
  maxAttempts?: number;
  random?: () => number;
  /** After a failed attempt that will be retried. */
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
  now?: () => number;
}

export interface Waited<T> {
  value: T;
  attempts: number;
  waitedMs: number;
}

export async function waitForMaster<T>(options: WaitOptions<T>): Promise<Waited<T>> {
  const now = options.now ?? (() => performance.now());
  const backoff = options.backoff ?? BOOT_BACKOFF;
  const random = options.random ?? Math.random;
  const started = now();
  let lastError: unknown;
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await withDeadline(options.probe(), options.timeoutMs - (now() - started));
      return { value, attempts: attempt, waitedMs: Math.round(now() - started) };
    } catch (error) {
      if (error !== DEADLINE && !isWorthRetrying(error)) throw error;
      if (error !== DEADLINE) lastError = error;
      const last = attempt >= (options.maxAttempts ?? Infinity);
      const delay = error === DEADLINE || last ? undefined : nextAttemptDelay(attempt, now() - started, options.timeoutMs, backoff, random());
      if (delay === undefined) throw gaveUp(options, attempt, lastError);
      options.onRetry?.(attempt, error, delay);
      await sleep(delay);
      if (now() - started >= options.timeoutMs) throw gaveUp(options, attempt, lastError);
    }
  }
}

const DEADLINE = Symbol('deadline');

/** The attempt, or DEADLINE thrown when `ms` run out first (a black-holed master: ssh2 would wait 10 s). */
function withDeadline<T>(attempt: Promise<T>, ms: number): Promise<T> {
  if (ms <= 0) {
    attempt.catch(() => undefined);
    return Promise.reject(DEADLINE);
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(DEADLINE), ms);
  });
  attempt.catch(() => undefined); // an abandoned attempt's late failure is not unhandled
  return Promise.race([attempt, deadline]).finally(() => clearTimeout(timer));
}

function gaveUp(options: WaitOptions<unknown>, attempts: number, lastError: unknown): MasterUnreachableError {
  const seconds = Math.round(options.timeoutMs / 100) / 10;
  const last = isPachaError(lastError) ? `; last error: ${lastError.message}` : lastError ? '' : '; no attempt finished in time';
  const limit = attempts >= (options.maxAttempts ?? Infinity) ? `after ${attempts} attempt${attempts === 1 ? '' : 's'}` : `within ${seconds} s (pacha.boot.timeout, ${attempts} attempt${attempts === 1 ? '' : 's'})`;
  return new MasterUnreachableError(`master ${options.label} did not answer ${limit}${last}`, {
    code: 'EBOOTTIMEOUT',
    hint: 'nothing was touched; check that the master is up and reachable, or raise pacha.boot.timeout. The next boot (or a restart of pacha.service) tries again',
    ...(lastError ? { cause: lastError } : {}),
  });
}
