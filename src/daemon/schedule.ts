// When to commit a stream of filesystem events. Pure: times are numbers (ms), no clock.
//
// Adaptive (issue 14): a window of events that opens after a quiet spell — one edit, an
// editor's save — is committed once SETTLE_MS pass without another event: at once, in
// effect, so one edit reaches the master as fast as a tool without batching would carry it.
// Only a window that opens while events keep coming (the previous one less than `delayMs`
// before it) waits `delayMs` of quiet: a stream (a long untar, a 1,000-file burst) batches
// into one or few commits. The cap `maxDelayMs`, counted from the first pending event, keeps
// a continuous stream (a log-like file rewritten every 100 ms) from postponing the commit
// forever.

export interface ScheduleOptions {
  /** pacha.push.delay: quiet time after the last event, under a stream of events (ms). */
  delayMs: number;
  /** pacha.push.max_delay: longest wait after the first pending event (ms). */
  maxDelayMs: number;
}

export const DEFAULT_SCHEDULE: ScheduleOptions = { delayMs: 200, maxDelayMs: 2000 };

/**
 * Quiet time after an event that came after a quiet spell. An editor's save (write, chmod,
 * rename of a temp file) lands within it; inotify delivers a writer's events well within it.
 */
export const SETTLE_MS = 10;

export interface PendingEvents {
  /** Time of the first event not yet committed. */
  firstAt: number;
  /** Time of the most recent event. */
  lastAt: number;
  /**
   * Time of the last event before this window (null: none ever). Absent: the window is
   * treated as part of a stream (waits `delayMs`).
   */
  after?: number | null;
}

/** Whether the window opened after a quiet spell (its commit need not wait for more). */
export function openedQuiet(pending: PendingEvents, options: ScheduleOptions): boolean {
  if (pending.after === undefined) return false;
  return pending.after === null || pending.firstAt - pending.after >= options.delayMs;
}

/** The time at which the pending events should be committed. */
export function commitAt(pending: PendingEvents, options: ScheduleOptions): number {
  const delay = Math.max(0, options.delayMs);
  const quiet = pending.lastAt + (openedQuiet(pending, options) ? Math.min(delay, SETTLE_MS) : delay);
  const cap = pending.firstAt + Math.max(0, options.maxDelayMs);
  return Math.min(quiet, cap);
}

export type ScheduleDecision = { action: 'commit' } | { action: 'wait'; ms: number };

/** Commit now, or wait this long before asking again. */
export function decide(pending: PendingEvents, now: number, options: ScheduleOptions): ScheduleDecision {
  const at = commitAt(pending, options);
  return at <= now ? { action: 'commit' } : { action: 'wait', ms: at - now };
}

/**
 * Fold one more event into the pending window (or open a new one). `previous`: when the
 * event before this window's first came (null: never), for the adaptive quiet time.
 */
export function addEvent(pending: PendingEvents | undefined, at: number, previous?: number | null): PendingEvents {
  if (!pending) return previous === undefined ? { firstAt: at, lastAt: at } : { firstAt: at, lastAt: at, after: previous };
  return { ...pending, firstAt: Math.min(pending.firstAt, at), lastAt: Math.max(pending.lastAt, at) };
}
