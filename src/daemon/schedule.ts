// When to commit a stream of filesystem events. Pure: times are numbers (ms), no clock.
//
// A quiet period of `delayMs` after the last event lets an editor's save (temp file,
// rename, chmod) settle into one commit; the cap `maxDelayMs`, counted from the first
// pending event, keeps a continuous stream (a log-like file rewritten every 100 ms,
// a long untar) from postponing the commit forever.

export interface ScheduleOptions {
  /** pacha.push.delay: quiet time after the last event (ms). */
  delayMs: number;
  /** pacha.push.max_delay: longest wait after the first pending event (ms). */
  maxDelayMs: number;
}

export const DEFAULT_SCHEDULE: ScheduleOptions = { delayMs: 200, maxDelayMs: 2000 };

export interface PendingEvents {
  /** Time of the first event not yet committed. */
  firstAt: number;
  /** Time of the most recent event. */
  lastAt: number;
}

/** The time at which the pending events should be committed. */
export function commitAt(pending: PendingEvents, options: ScheduleOptions): number {
  const quiet = pending.lastAt + Math.max(0, options.delayMs);
  const cap = pending.firstAt + Math.max(0, options.maxDelayMs);
  return Math.min(quiet, cap);
}

export type ScheduleDecision = { action: 'commit' } | { action: 'wait'; ms: number };

/** Commit now, or wait this long before asking again. */
export function decide(pending: PendingEvents, now: number, options: ScheduleOptions): ScheduleDecision {
  const at = commitAt(pending, options);
  return at <= now ? { action: 'commit' } : { action: 'wait', ms: at - now };
}

/** Fold one more event into the pending window (or open a new one). */
export function addEvent(pending: PendingEvents | undefined, at: number): PendingEvents {
  if (!pending) return { firstAt: at, lastAt: at };
  return { firstAt: Math.min(pending.firstAt, at), lastAt: Math.max(pending.lastAt, at) };
}
