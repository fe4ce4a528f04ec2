// `pacha daemon`: watch every tracked path, commit each change, push it, forever.
//
//   watcher events → schedule (debounce/cap) → store.commit() → push queue (backoff)
//   reconcile (store.commit on every path): at start, after a 'rescan', and periodically: every
//   pacha.frequency seconds while inotify misses something, stretching to 8× that while it does not (reconcile-pace.ts)
//   SIGTERM/SIGINT: stop watching, finish the commit in progress (and pending events), one push attempt, resolve
//   SIGHUP: reload the settings: pacha.watch added/removed, delays, frequency
// The Daemon class holds one run's state; runDaemon() is new Daemon(options).run().
import path from 'node:path';
import { streamLog, type Level } from '../log.js';
import type { Settings } from '../config/settings.js';
import type { BackoffOptions } from '../backoff.js';
import { backoffDelay } from '../backoff.js';
import { isPachaError } from '../errors.js';
import { describeStorageFault, storageFault, type StorageFault } from '../fs/storage-fault.js';
import type { Master } from '../master/master.js';
import { ignoreSettingsFrom } from '../store/ignore.js';
import type { CommitResult, Store, TrackedPath } from '../store/store.js';
import { clearStaleGitLocks } from './git-locks.js';
import { startHeartbeat, type HeartbeatTimer } from './heartbeat.js';
import { nextReconcilePeriod, type ReconcileOutcome } from './reconcile-pace.js';
import { acquireDaemonLock, type DaemonLock } from './lock.js';
import { daemonHeapSettings } from './memory.js';
import { PathWorker, type PathWorkerHooks } from './path-worker.js';
import { guardProcess } from './process-guard.js';
import { OtherMasters, type OtherMaster } from './other-masters.js';
import { PushQueue, type PushEvent } from './push-queue.js';
import type { ScheduleOptions } from './schedule.js';
import { StatusFile } from './status.js';

export interface DaemonOptions {
  settings: Settings;
  store: Store;
  master: Master;
  /** The masters after the first (pacha.host as a list): each gets every commit through its own queue. */
  otherMasters?: readonly OtherMaster[];
  /** SIGHUP: fresh settings (the CLI reloads the config file and the environment). */
  reload?: () => Promise<Settings>;
  log?: (level: Level, message: string) => void;
  /** Handle SIGTERM, SIGINT and SIGHUP (default true). */
  handleSignals?: boolean;
  /** Aborting it stops the daemon like SIGTERM (in-process use, tests). */
  signal?: AbortSignal;
  pushBackoff?: BackoffOptions;
  divergedRetryMs?: number;
  /** While the state dir's disk fails (full, read-only): how often commits are tried again. */
  storageRetry?: BackoffOptions;
  /** Called once every path is watched and the start reconcile is done. */
  onReady?: () => void;
}

/** A full state dir: commits tried again after 1 s, 2 s … every 15 s at most. */
const STORAGE_RETRY: BackoffOptions = { baseMs: 1000, maxMs: 15_000, factor: 2, jitter: 0.2 };

/** How many changed paths a commit's log line names. */
const LOGGED_CHANGES = 10;

function scheduleFrom(settings: Settings): ScheduleOptions {
  return { delayMs: settings.get('pacha.push.delay') ?? 200, maxDelayMs: settings.get('pacha.push.max_delay') ?? 2000 };
}

function describe(error: unknown): string {
  if (isPachaError(error)) return error.hint ? `${error.message} (${error.hint})` : error.message;
  return error instanceof Error ? error.message : String(error);
}

function listChanged(changed: string[]): string {
  const shown = changed.slice(0, LOGGED_CHANGES).join(', ');
  return changed.length > LOGGED_CHANGES ? `${shown} and ${changed.length - LOGGED_CHANGES} more` : shown;
}

/** The daemon lock; a state dir that cannot be written (full, read-only) is waited for, loudly. */
async function lockWaitingForDisk(stateDir: string, log: (level: Level, message: string) => void): Promise<DaemonLock> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await acquireDaemonLock(stateDir);
    } catch (error) {
      const fault = storageFault(error);
      if (!fault) throw error;
      const delay = backoffDelay(attempt, STORAGE_RETRY);
      log('error', `STATE DIR ${stateDir}: ${describeStorageFault(fault)}: cannot take the daemon lock; trying again in ${(delay / 1000).toFixed(0)} s`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** The state dir's disk failing (ENOSPC, EROFS, EIO): since when, and which paths wait to commit. */
interface StorageTrouble {
  fault: StorageFault;
  since: number;
  attempts: number;
  waiting: Set<string>;
  timer?: NodeJS.Timeout;
}

/**
 * One daemon's life: its lock, its path workers, the push queue, the reconcile timer, the
 * storage-fault state, signals. run() resolves once it has stopped.
 */
export class Daemon {
  private readonly store: Store;
  private readonly master: Master;
  private readonly log: (level: Level, message: string) => void;
  private settings: Settings;
  private readonly status: StatusFile;
  private readonly workers = new Map<string, PathWorker>();
  private readonly degraded = new Set<string>();
  private readonly queue: PushQueue;
  /** The masters after the first: each its own queue and backoff, so a dead one holds up none. */
  private readonly others: OtherMasters;
  private readonly storageRetry: BackoffOptions;
  private storage: StorageTrouble | undefined;
  private heartbeat: HeartbeatTimer | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private stopping = false;
  private stopRequested: () => void = () => undefined;
  private readonly hooks: PathWorkerHooks;

  constructor(private readonly options: DaemonOptions) {
    this.store = options.store;
    this.master = options.master;
    this.log = options.log ?? streamLog();
    this.settings = options.settings;
    this.status = new StatusFile(this.store.stateDir);
    this.storageRetry = options.storageRetry ?? STORAGE_RETRY;
    this.queue = new PushQueue({
      push: (tracked) => this.store.push(tracked, this.master),
      onEvent: (event) => void this.onPushEvent(event),
      ...(options.pushBackoff ? { backoff: options.pushBackoff } : {}),
      ...(options.divergedRetryMs !== undefined ? { divergedRetryMs: options.divergedRetryMs } : {}),
    });
    this.others = new OtherMasters({
      store: this.store,
      masters: options.otherMasters ?? [],
      log: this.log,
      ...(options.pushBackoff ? { backoff: options.pushBackoff } : {}),
      ...(options.divergedRetryMs !== undefined ? { divergedRetryMs: options.divergedRetryMs } : {}),
    });
    this.status.onWriteError = (error) => {
      const fault = storageFault(error);
      if (fault) this.onStorageFault(fault, `writing ${this.status.file}`, error);
      else this.log('error', `cannot write ${this.status.file}: ${describe(error)}`);
    };
    this.status.onWriteRecovered = () => this.storageRecovered();
    this.hooks = {
      log: this.log,
      committed: (tracked, result) => this.committed(tracked, result),
      commitSucceeded: (tracked) => {
        if (!this.storage) return;
        this.storage.waiting.delete(tracked.location);
        this.storageRecovered();
      },
      commitFailed: (tracked, error) => this.commitFailed(tracked, error),
      degraded: (tracked, error) => {
        if (!this.degraded.has(tracked.location)) this.log('error', describe(error));
        this.degraded.add(tracked.location);
        void this.status.update(tracked.location, { watching: 'polling', lastError: { message: error.message, time: new Date().toISOString() } });
      },
    };
  }

  /** Watch, commit and push until SIGTERM/SIGINT (or the abort signal); then stop cleanly. */
  async run(): Promise<void> {
    const { options, store, master, log } = this;
    const unguard = options.handleSignals !== false ? guardProcess(log) : () => undefined;
    if (options.handleSignals !== false) daemonHeapSettings(); // the process is the daemon's (memory.ts)
    const lock = await lockWaitingForDisk(store.stateDir, log);
    store.keepSnapshots = true;
    master.keepConnection?.();
    for (const other of options.otherMasters ?? []) other.master.keepConnection?.();
    const stopped = new Promise<void>((resolve) => (this.stopRequested = resolve));
    const onTerm = () => this.stopRequested();
    const onHup = () => {
      log('info', 'SIGHUP: reloading the configuration');
      const reload = () => this.reload();
      this.reloading = this.reloading.then(reload, reload);
    };
    if (options.handleSignals !== false) {
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onTerm);
      process.on('SIGHUP', onHup);
    }
    options.signal?.addEventListener('abort', onTerm, { once: true });
    if (options.signal?.aborted) onTerm();

    try {
      log('info', `daemon started (PID ${process.pid}), state ${store.stateDir}, master ${master.label}`);
      await this.trackConfigured(this.settings.get('pacha.watch') ?? []);
      for (const tracked of await store.list()) await this.addWorker(tracked);
      if (this.workers.size === 0) log('warn', 'nothing is tracked: set pacha.watch or run `pacha watch PATH`, then send SIGHUP');
      this.armReconcile();
      this.heartbeat = startHeartbeat({ store, master, intervalMs: (this.settings.get('pacha.fleet.heartbeat') ?? 3600) * 1000, log });
      options.onReady?.();
      await stopped;
      log('info', 'stopping: finishing the commit in progress and one push attempt');
    } finally {
      this.stopping = true;
      if (this.storage?.timer) clearTimeout(this.storage.timer);
      if (this.reconcileTimer) clearTimeout(this.reconcileTimer);
      await this.reloading.catch(() => undefined);
      await this.reconciling?.catch(() => undefined);
      for (const worker of this.workers.values()) await worker.stop();
      await Promise.all([this.queue.drain(), this.others.drain()]);
      await this.heartbeat?.stop();
      for (const worker of this.workers.values()) await this.recordUnpushed(worker.tracked);
      await this.status.markStopped();
      await lock.release();
      if (options.handleSignals !== false) {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onTerm);
        process.off('SIGHUP', onHup);
      }
      options.signal?.removeEventListener('abort', onTerm);
      log('info', 'daemon stopped');
      unguard();
    }
  }

  // The state dir's disk failing (ENOSPC, EROFS, EIO): loud once, in the log and in
  // daemon.json (status also reads the disk itself: this file may be what cannot be written),
  // commits tried again with backoff until one works, then a note that it caught up.
  private onStorageFault(fault: StorageFault, what: string, error: unknown, tracked?: TrackedPath): void {
    if (!this.storage) {
      this.storage = { fault, since: Date.now(), attempts: 0, waiting: new Set() };
      const { stateDir } = this.store;
      const message =
        `STATE DIR ${stateDir}: ${describeStorageFault(fault)} (${fault}) while ${what}: ${describe(error)}. ` +
        'Changes are not being committed; they are committed (and pushed) as soon as the disk can be written again. ' +
        `Free space under ${stateDir} (or remount it read-write).`;
      this.log('error', message);
      void this.status.setStorage({ fault, message, since: new Date(this.storage.since).toISOString() });
    }
    if (tracked) this.storage.waiting.add(tracked.location);
    this.armStorageRetry();
  }

  private armStorageRetry(): void {
    const s = this.storage;
    if (!s || s.timer || s.waiting.size === 0 || this.stopping) return;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.attempts++;
      const locations = [...s.waiting];
      s.waiting.clear();
      for (const location of locations) void this.workers.get(location)?.commit('disk retry');
    }, backoffDelay(s.attempts + 1, this.storageRetry));
  }

  private storageRecovered(): void {
    const s = this.storage;
    if (!s || s.waiting.size > 0 || this.status.writeError !== undefined) return;
    if (s.timer) clearTimeout(s.timer);
    this.log('info', `state dir ${this.store.stateDir} can be written again after ${((Date.now() - s.since) / 1000).toFixed(0)} s; commits resumed`);
    this.storage = undefined;
    void this.status.setStorage(undefined);
  }

  /** How many commits wait for the master, in daemon.json (counted from the refs, no git process). */
  private async recordUnpushed(tracked: TrackedPath): Promise<void> {
    const unpushed = await this.store.unpushed(tracked).catch(() => undefined);
    if (unpushed !== undefined) await this.status.update(tracked.location, { unpushed });
  }

  private async onPushEvent(event: PushEvent): Promise<void> {
    const { tracked } = event;
    const { log, status, master } = this;
    const time = new Date().toISOString();
    if (event.kind === 'pushed') {
      this.heartbeat?.poke(tracked);
      log('info', `pushed ${tracked.location}: ${event.commits} commit${event.commits === 1 ? '' : 's'} (${event.sha.slice(0, 12)}) to ${master.label}`);
      await status.update(tracked.location, { lastPush: { time, sha: event.sha }, diverged: undefined });
    } else if (event.kind === 'failed') {
      log('warn', `push of ${tracked.location} failed (attempt ${event.attempt}): ${describe(event.error)}; next try in ${(event.retryInMs / 1000).toFixed(1)} s; the commits wait on disk`);
      await status.update(tracked.location, { lastError: { message: describe(event.error), time } });
    } else if (event.first) {
      const message =
        `DIVERGED: the master's history of ${tracked.location} (${tracked.name}) is not an ancestor of this host's; nothing was forced. ` +
        `This host's history is saved on the master as ${event.ref}; commits go on locally. End it with \`pacha reconcile ${tracked.location} --keep-local\` or \`--keep-master\` (\`pacha status\` shows both), then pushes resume.`;
      log('error', message);
      await status.update(tracked.location, { diverged: { ref: event.ref, time }, lastError: { message, time } });
    } else {
      log('warn', `${tracked.location} is still diverged from the master (its history updated in ${event.ref})`);
      await status.update(tracked.location, { diverged: { ref: event.ref, time } });
    }
    await this.recordUnpushed(tracked);
  }

  private committed(tracked: TrackedPath, result: CommitResult): void {
    this.log('info', `committed ${tracked.location} ${result.sha.slice(0, 12)}: ${listChanged(result.changed)}`);
    void this.status
      .update(tracked.location, { lastCommit: { sha: result.sha, time: new Date().toISOString(), changed: result.changed } })
      .then(() => this.recordUnpushed(tracked));
    this.requestPush(tracked);
  }

  /** Every master gets every commit, each through its own queue. */
  private requestPush(tracked: TrackedPath): void {
    this.queue.request(tracked);
    this.others.request(tracked);
  }

  private commitFailed(tracked: TrackedPath, error: unknown): void {
    const fault = storageFault(error);
    if (fault) {
      const first = !this.storage;
      this.onStorageFault(fault, `committing ${tracked.location}`, error, tracked);
      if (!first) this.log('warn', `commit of ${tracked.location} still waits for the state dir (${describeStorageFault(fault)})`);
      return;
    }
    this.log('error', `commit of ${tracked.location} failed: ${describe(error)}`);
    void this.status.update(tracked.location, { lastError: { message: describe(error), time: new Date().toISOString() } });
    if (/\.lock\b/.test(describe(error))) this.clearLocks(tracked).catch((e: unknown) => this.log('warn', `cannot clear git locks of ${tracked.location}: ${describe(e)}`));
  }

  private async clearLocks(tracked: TrackedPath): Promise<void> {
    // As the path's only writer: a git lock no process holds then really is stale.
    const decision = await this.store.writing(tracked, () => clearStaleGitLocks(tracked.gitDir));
    for (const file of decision.remove) this.log('warn', `removed stale git lock ${file} (no process held it)`);
    for (const kept of decision.keep) this.log('info', `git lock ${kept.file} kept: ${kept.why}`);
  }

  /** Watch and reconcile one tracked path. */
  private async addWorker(tracked: TrackedPath): Promise<void> {
    if (this.workers.has(tracked.location)) return;
    await this.clearLocks(tracked);
    const worker = new PathWorker(tracked, this.store, scheduleFrom(this.settings), this.hooks);
    this.workers.set(tracked.location, worker);
    await this.status.update(tracked.location, { name: tracked.name, watching: 'inotify' });
    await worker.start();
    if (worker.watcher.state === 'watching') {
      this.degraded.delete(tracked.location);
      this.log('info', `watching ${tracked.location} (${worker.watcher.watchedDirectories} directories) as ${tracked.name}`);
    }
    await worker.reconcile('start');
    this.requestPush(tracked); // commits left unpushed by an earlier run
  }

  private async trackConfigured(paths: string[]): Promise<void> {
    for (const location of paths) {
      try {
        const { tracked, created } = await this.store.track(location);
        if (created) this.log('info', `now tracking ${tracked.location} as ${tracked.name} (pacha.watch)`);
      } catch (error) {
        this.log('error', `cannot track ${location} from pacha.watch: ${describe(error)}`);
      }
    }
  }

  /** Reconcile every path; what it says for the next period (reconcile-pace.ts). */
  private async reconcileAll(reason: string): Promise<ReconcileOutcome> {
    const outcome: ReconcileOutcome = { missed: false, unwatched: false };
    for (const worker of this.workers.values()) {
      // A degraded path tries to watch again at each reconcile (the limit may have been raised).
      const wasDegraded = worker.watcher.state === 'degraded';
      await worker.reconcile(reason);
      if (wasDegraded && (worker.watcher.state as string) === 'watching') {
        this.degraded.delete(worker.tracked.location);
        this.log('info', `watching ${worker.tracked.location} again (inotify)`);
        await this.status.update(worker.tracked.location, { watching: 'inotify' });
      }
      if (worker.takeMissed()) outcome.missed = true;
      if ((worker.watcher.state as string) !== 'watching') outcome.unwatched = true;
    }
    return outcome;
  }

  /**
   * The periodic reconcile: pacha.frequency after the start (or a reload), then a period
   * that stretches while reconciles find nothing inotify missed (reconcile-pace.ts).
   */
  private armReconcile(periodMs?: number): void {
    if (this.reconcileTimer) clearTimeout(this.reconcileTimer);
    const frequencyMs = (this.settings.get('pacha.frequency') ?? 60) * 1000;
    const period = periodMs ?? frequencyMs;
    this.reconcileTimer = setTimeout(() => {
      this.reconcileTimer = undefined;
      if (this.reconciling) return this.armReconcile(period);
      this.reconciling = this.reconcileAll('periodic')
        .then(
          (outcome) => nextReconcilePeriod(frequencyMs, period, outcome),
          () => frequencyMs,
        )
        .then((next) => {
          if (!this.stopping && this.reconcileTimer === undefined) this.armReconcile(next);
        })
        .finally(() => (this.reconciling = undefined));
    }, period);
  }

  private async reload(): Promise<void> {
    const { options, store, log } = this;
    if (!options.reload) return;
    let fresh: Settings;
    try {
      fresh = await options.reload();
    } catch (error) {
      log('error', `configuration not reloaded, keeping the current one: ${describe(error)}`);
      return;
    }
    const before = new Set(this.settings.get('pacha.watch') ?? []);
    const after = fresh.get('pacha.watch') ?? [];
    this.settings = fresh;
    store.setIgnore(ignoreSettingsFrom(fresh));
    for (const worker of this.workers.values()) worker.setSchedule(scheduleFrom(fresh));
    this.armReconcile();
    await this.trackConfigured(after.filter((p) => !before.has(p)));
    const removed = [...before].filter((p) => !after.includes(p));
    for (const location of removed) {
      const tracked = await store.find(location);
      if (!tracked || tracked.location !== path.resolve(location)) continue;
      const worker = this.workers.get(tracked.location);
      await worker?.stop();
      this.workers.delete(tracked.location);
      this.queue.remove(tracked);
      this.others.remove(tracked);
      await store.push(tracked, this.master).catch((error: unknown) => log('warn', `last push of ${tracked.location} failed: ${describe(error)}`));
      await store.untrack(tracked.location);
      await this.status.forget(tracked.location);
      log('info', `stopped tracking ${tracked.location} (removed from pacha.watch); its history stays on the master as ${tracked.name}`);
    }
    for (const tracked of await store.list()) await this.addWorker(tracked);
    log('info', `configuration reloaded: watching ${this.workers.size} path${this.workers.size === 1 ? '' : 's'}`);
  }
}

export function runDaemon(options: DaemonOptions): Promise<void> {
  return new Daemon(options).run();
}
