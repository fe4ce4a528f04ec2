// One tracked path inside the daemon: its watcher, the debounce window, and its commits,
// one at a time. Pushing is the push queue's job; this only says "needs a push".
// The paths the watcher reported go with the commit (store/live.ts reads only those); a
// reconcile, a rescan or too many events make a full commit.
import path from 'node:path';
import { MAX_ENTRIES } from '../store/live.js';
import type { CommitResult, Store, TrackedPath } from '../store/store.js';
import type { Level } from '../log.js';
import { releaseAfterFullCommit } from './memory.js';
import { addEvent, decide, type PendingEvents, type ScheduleOptions } from './schedule.js';
import { TreeWatcher } from './watcher.js';

export interface PathWorkerHooks {
  log(level: Level, message: string): void;
  committed(tracked: TrackedPath, result: CommitResult): void;
  commitFailed(tracked: TrackedPath, error: unknown): void;
  /** After every commit attempt that did not fail (a commit, or nothing to commit). */
  commitSucceeded?(tracked: TrackedPath): void;
  degraded(tracked: TrackedPath, error: Error): void;
}

/** How many changed paths a log line names before "and N more". */
const LOGGED_PATHS = 5;

export class PathWorker {
  readonly watcher: TreeWatcher;
  private pending: PendingEvents | undefined;
  private seen = new Set<string>();
  /** Paths (relative) reported since the last commit; undefined: read everything. */
  private changed: Set<string> | undefined = new Set();
  private timer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private again: string | undefined;
  private stopped = false;
  /** Since takeMissed(): a periodic reconcile committed what no event reported, or the watcher suspected lost events. */
  private missed = false;
  /** When the last event came (null: none yet): a window after quiet commits at once (schedule.ts). */
  private lastEventAt: number | null = null;

  constructor(
    readonly tracked: TrackedPath,
    private readonly store: Store,
    private schedule: ScheduleOptions,
    private readonly hooks: PathWorkerHooks,
    private readonly now: () => number = Date.now,
  ) {
    this.watcher = new TreeWatcher(tracked.location, {
      single: tracked.single,
      ignored: (rel, isDirectory) => store.isIgnored(tracked, rel, isDirectory),
    });
    this.watcher.on('change', (file) => this.onChange(file));
    this.watcher.on('rescan', (reason) => {
      hooks.log('warn', `${tracked.location}: ${reason}; reconciling now`);
      this.missed = true;
      void this.commit('rescan');
    });
    this.watcher.on('degraded', (error) => hooks.degraded(tracked, error));
  }

  async start(): Promise<void> {
    await this.watcher.start();
  }

  setSchedule(schedule: ScheduleOptions): void {
    this.schedule = schedule;
  }

  private onChange(file: string): void {
    if (this.stopped) return;
    const now = this.now();
    this.pending = addEvent(this.pending, now, this.lastEventAt);
    this.lastEventAt = now;
    if (this.seen.size <= LOGGED_PATHS) this.seen.add(file);
    const rel = path.relative(this.tracked.location, file);
    if (this.tracked.single || rel.startsWith('..') || path.isAbsolute(rel) || (this.changed && this.changed.size >= MAX_ENTRIES)) this.changed = undefined;
    else this.changed?.add(rel === '' ? '.' : rel.split(path.sep).join('/'));
    this.hooks.log('debug', `event: ${file}`);
    this.tick();
  }

  /** Commit when the schedule says so; otherwise wake up when it will. */
  private tick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending || this.stopped) return;
    const decision = decide(this.pending, this.now(), this.schedule);
    if (decision.action === 'commit') void this.commit('events');
    else this.timer = setTimeout(() => this.tick(), decision.ms);
  }

  /**
   * Full reconcile: re-sync the watches, then commit whatever differs. A periodic one on a
   * healthy watcher commits first and re-syncs the watches only if the commit found something
   * no event reported: a directory inotify missed is a difference in the tree, so an empty
   * reconcile means the watch set is whole, and its walk of every directory is saved.
   */
  async reconcile(reason: string): Promise<void> {
    const resync = () => this.watcher.resync().catch((error: unknown) => this.hooks.log('warn', `${this.tracked.location}: ${(error as Error).message}`));
    const healthy = reason === 'periodic' && this.watcher.state === 'watching' && !this.missed;
    if (!healthy) await resync();
    await this.commit(reason);
    if (healthy && this.missed) await resync();
  }

  /**
   * Whether inotify may have missed something since the last call (reconcile-pace.ts): a
   * periodic reconcile committed a change no event had reported, or the watcher suspected
   * a lost event queue. Clears it.
   */
  takeMissed(): boolean {
    const missed = this.missed;
    this.missed = false;
    return missed;
  }

  /** Commit now (after the commit in progress, if any). Resolves when this state is committed. */
  commit(reason: string): Promise<void> {
    if (this.committing) {
      this.again = reason;
      return this.committing.then(() => this.committing);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const events = this.pending !== undefined;
    this.pending = undefined;
    const seen = [...this.seen];
    this.seen.clear();
    const changed = reason === 'events' || reason === 'shutdown' ? this.changed : undefined;
    this.changed = new Set();
    this.committing = this.commitOnce(reason, events, seen, changed).finally(() => {
      this.committing = undefined;
      const next = this.again;
      this.again = undefined;
      if (next !== undefined && !this.stopped) void this.commit(next);
      else this.tick(); // events that arrived during the commit
    });
    return this.committing;
  }

  private async commitOnce(reason: string, events: boolean, seen: string[], changed: Set<string> | undefined): Promise<void> {
    try {
      const result = await this.store.commit(this.tracked, { by: { origin: 'daemon' }, ...(changed ? { changed } : {}) });
      if (this.store.lastCommitRead === 'full') releaseAfterFullCommit(this.store);
      if (result) this.hooks.committed(this.tracked, result);
      if (result && reason === 'periodic' && !events) this.missed = true;
      else if (events) this.hooks.log('debug', `${this.tracked.location}: ${reason}: events (${seen.join(', ')}) but nothing to commit`);
      this.hooks.commitSucceeded?.(this.tracked);
    } catch (error) {
      this.hooks.commitFailed(this.tracked, error);
    }
  }

  /** Stop watching; commit what is pending; resolve when the last commit is done. */
  async stop(): Promise<void> {
    this.watcher.close();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.committing) await this.committing;
    if (this.pending) await this.commit('shutdown');
    this.stopped = true;
  }
}
