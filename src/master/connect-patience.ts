// How long one ssh2 connection attempt waits for the master's handshake. A master that did
// not finish it in time is given longer on the next attempt (10 s, 20 s, 40 s, then 60 s),
// and the first success brings it back to 10 s. Under a boot storm a master busy with hundreds
// of handshakes is slow, not dead: abandoning each handshake at a fixed 10 s throws away the
// work it had done and keeps its MaxStartups slot busy for nothing, so every instance retries
// and nobody gets through (500 instances against one sshd: 329 gave up after 1800 s of 10 s
// attempts). A dead master is still found dead: its attempts run out pacha.boot.timeout as before.
import { CONNECT_TIMEOUT_SECONDS } from './ssh-options.js';

export const MAX_CONNECT_TIMEOUT_SECONDS = 60;

/** The next attempt's handshake timeout after one that timed out or not. Pure. */
export function nextConnectTimeout(seconds: number, timedOut: boolean): number {
  return timedOut ? Math.min(seconds * 2, MAX_CONNECT_TIMEOUT_SECONDS) : CONNECT_TIMEOUT_SECONDS;
}

/** Whether a failed connection attempt ran out of time (ssh2's ready timeout or a TCP timeout). Pure. */
export function isConnectTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { level?: unknown }).level === 'client-timeout' || (e as { code?: unknown }).code === 'ETIMEDOUT') return true;
  }
  return false;
}
