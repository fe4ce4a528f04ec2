// Pushes, per tracked path, retried with exponential backoff and jitter (src/backoff.ts).
//
// The queue holds only "this path needs a push": the commits themselves wait on disk in
// the path's git dir, and a push sends the branch as it is, so git keeps their order and
// a master that was down for a day gets everything on the first push that works.
// At most one push per path runs at a time; a request during a push means "push again".
import { backoffDelay, type BackoffOptions } from '../backoff.js';
import type { PushResult, TrackedPath } from '../store/store.js';

export const DEFAULT_PUSH_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000, factor: 2, jitter: 1 };
/** After a divergence, how often to look again whether an admin resolved it. */
export const DEFAULT_DIVERGED_RETRY_MS = 10 * 60_000;

export type PushEvent =
  | { kind: 'pushed'; tracked: TrackedPath; sha: string; commits: number }
  | { kind: 'failed'; tracked: TrackedPath; error: unknown; attempt: number; retryInMs: number }
  /** `first`: the first report of this divergence (loud); later ones are reminders. */
  | { kind: 'diverged'; tracked: TrackedPath; ref: string; first: boolean; retryInMs: number };

export interface PushQueueOptions {
  push(tracked: TrackedPath): Promise<PushResult>;
  onEvent(event: PushEvent): void;
  backoff?: BackoffOptions;
  divergedRetryMs?: number;
  random?: () => number;
}

interface PathState {
  tracked: TrackedPath;
  wanted: boolean;
  running: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
  failures: number;
  diverged: boolean;
}

export type PushOutcome = { ok: true; result: PushResult } | { ok: false; error: unknown };

/** Pure: after one push, how long until the next try (undefined: none needed unless asked). */
export function afterPush(
  outcome: PushOutcome,
  failuresBefore: number,
  options: { backoff: BackoffOptions; divergedRetryMs: number },
  random: number,
): { failures: number; retryInMs: number | undefined } {
  if (!outcome.ok) {
    const failures = failuresBefore + 1;
    return { failures, retryInMs: backoffDelay(failures, options.backoff, random) };
  }
  if (outcome.result.status === 'diverged') return { failures: 0, retryInMs: options.divergedRetryMs };
  return { failures: 0, retryInMs: undefined };
}

export class PushQueue {
  private readonly paths = new Map<string, PathState>();
  private readonly backoff: BackoffOptions;
  private readonly divergedRetryMs: number;
  private readonly random: () => number;
  private closed = false;

  constructor(private readonly options: PushQueueOptions) {
    this.backoff = options.backoff ?? DEFAULT_PUSH_BACKOFF;
    this.divergedRetryMs = options.divergedRetryMs ?? DEFAULT_DIVERGED_RETRY_MS;
    this.random = options.random ?? Math.random;
  }

  private state(tracked: TrackedPath): PathState {
    let s = this.paths.get(tracked.gitDir);
    if (!s) {
      s = { tracked, wanted: false, running: undefined, timer: undefined, failures: 0, diverged: false };
      this.paths.set(tracked.gitDir, s);
    }
    s.tracked = tracked;
    return s;
  }

  /** Path X has new commits. Pushed now, unless a push runs (then right after) or a retry is pending. */
  request(tracked: TrackedPath): void {
    if (this.closed) return;
    const s = this.state(tracked);
    s.wanted = true;
    if (!s.running && !s.timer) this.start(s);
  }

  /** Paths waiting for a retry (failed or diverged). */
  waiting(): TrackedPath[] {
    return [...this.paths.values()].filter((s) => s.timer || s.wanted).map((s) => s.tracked);
  }

  /** Forget a path (no longer tracked). */
  remove(tracked: TrackedPath): void {
    const s = this.paths.get(tracked.gitDir);
    if (s?.timer) clearTimeout(s.timer);
    this.paths.delete(tracked.gitDir);
  }

  /**
   * Shutdown: wait for running pushes, then one attempt for every path still waiting
   * (its retry timer cancelled), then stop. Commits left unpushed stay on disk.
   */
  async drain(): Promise<void> {
    await Promise.all([...this.paths.values()].map((s) => s.running));
    this.closed = true;
    const waiting = [...this.paths.values()].filter((s) => s.wanted || s.timer);
    for (const s of waiting) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
    }
    await Promise.all(waiting.map((s) => this.attempt(s)));
  }

  /** Stop without pushing. */
  close(): void {
    this.closed = true;
    for (const s of this.paths.values()) if (s.timer) clearTimeout(s.timer);
  }

  private start(s: PathState): void {
    s.running = this.attempt(s).finally(() => {
      s.running = undefined;
      if (this.closed || s.timer) return;
      if (s.wanted) this.start(s);
    });
  }

  private async attempt(s: PathState): Promise<void> {
    s.wanted = false;
    let outcome: PushOutcome;
    try {
      outcome = { ok: true, result: await this.options.push(s.tracked) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const next = afterPush(outcome, s.failures, { backoff: this.backoff, divergedRetryMs: this.divergedRetryMs }, this.random());
    s.failures = next.failures;
    if (!outcome.ok) {
      this.options.onEvent({ kind: 'failed', tracked: s.tracked, error: outcome.error, attempt: next.failures, retryInMs: next.retryInMs! });
    } else if (outcome.result.status === 'diverged') {
      this.options.onEvent({ kind: 'diverged', tracked: s.tracked, ref: outcome.result.ref, first: !s.diverged, retryInMs: next.retryInMs! });
      s.diverged = true;
    } else {
      s.diverged = false;
      if (outcome.result.status === 'pushed') {
        this.options.onEvent({ kind: 'pushed', tracked: s.tracked, sha: outcome.result.sha, commits: outcome.result.commits });
      }
    }
    if (next.retryInMs !== undefined && !this.closed) {
      s.wanted = true;
      s.timer = setTimeout(() => {
        s.timer = undefined;
        if (!s.running && !this.closed) this.start(s);
      }, next.retryInMs);
    }
  }
}
