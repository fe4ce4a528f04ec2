// Retry delays: exponential, capped, with "full jitter" so that hundreds of instances
// retrying against one master or one SSM endpoint spread out instead of stampeding.
// Pure: the random draw is a parameter, so tests need no clock and no luck.

export interface BackoffOptions {
  /** Delay of the first retry, before jitter (ms). */
  baseMs: number;
  /** Upper bound of any delay (ms). */
  maxMs: number;
  /** Growth per attempt. */
  factor?: number;
  /** 0 = no jitter (exact exponential); 1 = full jitter in [0, delay]. */
  jitter?: number;
}

/**
 * Delay before retry number `attempt` (1 = first retry).
 * `random` is a draw in [0, 1); with jitter j the delay lies in [(1-j)·d, d], d = min(max, base·factor^(attempt-1)).
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: number = Math.random()): number {
  const { baseMs, maxMs, factor = 2, jitter = 1 } = options;
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(maxMs, baseMs * factor ** Math.min(exponent, 64));
  const floor = ceiling * (1 - jitter);
  return Math.round(floor + (ceiling - floor) * Math.min(Math.max(random, 0), 1));
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
