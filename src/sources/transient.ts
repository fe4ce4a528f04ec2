// Boot's sources (SSM, the EC2 metadata service) on a bad day: what passes by itself (no
// route, refused, timeout, throttling, HTTP 5xx: a SourceUnreachableError) is tried again
// with jittered backoff until pacha.boot.timeout, counted from the start of boot, runs out;
// then exit 3 (unreachable), so systemd starts boot again. Anything else fails at once.
import { backoffDelay, sleep as realSleep, type BackoffOptions } from '../backoff.js';
import { ExitCode, SourceUnreachableError, isPachaError, type CodeWithExit } from '../errors.js';

/** 0.5 s, 1 s, 2 s … capped at 15 s, each drawn in [0, delay] (a fleet booting together spreads out). */
export const SOURCE_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 15_000, factor: 2, jitter: 1 };

export interface TransientWait {
  /** When waiting ends (performance.now() clock). */
  deadline: number;
  /** pacha.boot.timeout, for the message. */
  timeoutSeconds: number;
  backoff?: BackoffOptions;
  onRetry?: (what: string, attempt: number, error: unknown, delayMs: number) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export function isTransient(error: unknown): boolean {
  return isPachaError(error) && error.exitCode === ExitCode.unreachable;
}

/** `call` until it succeeds, fails for good, or the deadline passes (then exit 3, naming what was waited for). */
export async function retryTransient<T>(what: string, call: () => Promise<T>, wait: TransientWait): Promise<T> {
  const now = wait.now ?? (() => performance.now());
  const sleep = wait.sleep ?? realSleep;
  const random = wait.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isTransient(error)) throw error;
      const remaining = wait.deadline - now();
      if (remaining <= 0) throw gaveUp(what, attempt, error, wait.timeoutSeconds);
      const delay = Math.min(backoffDelay(attempt, wait.backoff ?? SOURCE_BACKOFF, random()), remaining);
      wait.onRetry?.(what, attempt, error, delay);
      await sleep(delay);
    }
  }
}

function gaveUp(what: string, attempts: number, last: unknown, timeoutSeconds: number): SourceUnreachableError {
  const message = isPachaError(last) ? last.message : String(last);
  return new SourceUnreachableError(`${what} did not answer within ${timeoutSeconds} s (pacha.boot.timeout, ${attempts} attempt${attempts === 1 ? '' : 's'}); last error: ${message}`, {
    code: isPachaError(last) && last.exitCode === ExitCode.unreachable ? (last.code as CodeWithExit<3>) : 'ESOURCEUNREACHABLE',
    hint: 'nothing was touched; the next boot (or a restart of pacha.service) tries again. Check the network and the endpoint, or raise pacha.boot.timeout',
    cause: last,
  });
}
