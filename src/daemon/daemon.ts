// `pacha daemon`: watch every tracked path, commit each change, push it, forever.
//
//   watcher events → schedule (debounce/cap) → store.commit() → push queue (backoff)
//   reconcile (store.commit on every path): at start, every pacha.frequency seconds, after a 'rescan'
//   SIGTERM/SIGINT: stop watching, finish the commit in progress (and pending events), one push attempt, resolve
//   SIGHUP: reload the settings: pacha.watch added/removed, delays, frequency
import path from 'node:path';
import type { Level } from '../cli/output.js';
import { Output } from '../cli/output.js';
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
import { acquireDaemonLock, type DaemonLock } from './lock.js';
import { PathWorker } from './path-worker.js';
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

export async function runDaemon(options: DaemonOptions): Promise<void> {
  const { store, master } = options;
  const output = options.log ? undefined : new Output(false);
  const log = options.log ?? ((level: Level, message: string) => output!.log(level, message));
  let settings = options.settings;

  const unguard = options.handleSignals !== false ? guardProcess(log) : () => undefined;
  const lock = await lockWaitingForDisk(store.stateDir, log);
  const status = new StatusFile(store.stateDir);
  const workers = new Map<string, PathWorker>();
  const degraded = new Set<string>();

  // The state dir's disk failing (ENOSPC, EROFS, EIO): loud once, in the log and in
  // daemon.json (status also reads the disk itself: this file may be what cannot be written),
  // commits tried again with backoff until one works, then a note that it caught up.
  let storage: { fault: StorageFault; since: number; attempts: number; waiting: Set<string>; timer?: NodeJS.Timeout } | undefined;
  const storageRetry = options.storageRetry ?? STORAGE_RETRY;
  const onStorageFault = (fault: StorageFault, what: string, error: unknown, tracked?: TrackedPath): void => {
    if (!storage) {
      storage = { fault, since: Date.now(), attempts: 0, waiting: new Set() };
      const message =
        `STATE DIR ${store.stateDir}: ${describeStorageFault(fault)} (${fault}) while ${what}: ${describe(error)}. ` +
        'Changes are not being committed; they are committed (and pushed) as soon as the disk can be written again. ' +
        `Free space under ${store.stateDir} (or remount it read-write).`;
      log('error', message);
      void status.setStorage({ fault, message, since: new Date(storage.since).toISOString() });
    }
    if (tracked) storage.waiting.add(tracked.location);
    armStorageRetry();
  };
  const armStorageRetry = (): void => {
    if (!storage || storage.timer || storage.waiting.size === 0 || stopping) return;
    const s = storage;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.attempts++;
      const locations = [...s.waiting];
      s.waiting.clear();
      for (const location of locations) void workers.get(location)?.commit('disk retry');
    }, backoffDelay(s.attempts + 1, storageRetry));
  };
  const storageRecovered = (): void => {
    if (!storage || storage.waiting.size > 0 || status.writeError !== undefined) return;
    if (storage.timer) clearTimeout(storage.timer);
    log('info', `state dir ${store.stateDir} can be written again after ${((Date.now() - storage.since) / 1000).toFixed(0)} s; commits resumed`);
    storage = undefined;
    void status.setStorage(undefined);
  };
  status.onWriteError = (error) => {
    const fault = storageFault(error);
    if (fault) onStorageFault(fault, `writing ${status.file}`, error);
    else log('error', `cannot write ${status.file}: ${describe(error)}`);
  };
  status.onWriteRecovered = () => storageRecovered();

  const recordUnpushed = async (tracked: TrackedPath) => {
    const unpushed = await store.unpushed(tracked).catch(() => undefined);
    if (unpushed !== undefined) await status.update(tracked.location, { unpushed });
  };

  const queue = new PushQueue({
    push: (tracked) => store.push(tracked, master),
    onEvent: (event) => void onPushEvent(event),
    ...(options.pushBackoff ? { backoff: options.pushBackoff } : {}),
    ...(options.divergedRetryMs !== undefined ? { divergedRetryMs: options.divergedRetryMs } : {}),
  });
  const others = new OtherMasters({
    store,
    masters: options.otherMasters ?? [],
    log,
    ...(options.pushBackoff ? { backoff: options.pushBackoff } : {}),
    ...(options.divergedRetryMs !== undefined ? { divergedRetryMs: options.divergedRetryMs } : {}),
  });
  const requestPush = (tracked: TrackedPath): void => {
    queue.request(tracked);
    others.request(tracked);
  };

  let heartbeat: HeartbeatTimer | undefined;

  async function onPushEvent(event: PushEvent): Promise<void> {
    const { tracked } = event;
    const time = new Date().toISOString();
    if (event.kind === 'pushed') {
      heartbeat?.poke(tracked);
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
    await recordUnpushed(tracked);
  }

  const hooks = {
    log,
    committed: (tracked: TrackedPath, result: CommitResult) => {
      log('info', `committed ${tracked.location} ${result.sha.slice(0, 12)}: ${listChanged(result.changed)}`);
      void status
        .update(tracked.location, { lastCommit: { sha: result.sha, time: new Date().toISOString(), changed: result.changed } })
        .then(() => recordUnpushed(tracked));
      requestPush(tracked);
    },
    commitSucceeded: (tracked: TrackedPath) => {
      if (!storage) return;
      storage.waiting.delete(tracked.location);
      storageRecovered();
    },
    commitFailed: (tracked: TrackedPath, error: unknown) => {
      const fault = storageFault(error);
      if (fault) {
        const first = !storage;
        onStorageFault(fault, `committing ${tracked.location}`, error, tracked);
        if (!first) log('warn', `commit of ${tracked.location} still waits for the state dir (${describeStorageFault(fault)})`);
        return;
      }
      log('error', `commit of ${tracked.location} failed: ${describe(error)}`);
      void status.update(tracked.location, { lastError: { message: describe(error), time: new Date().toISOString() } });
      if (/\.lock\b/.test(describe(error))) clearLocks(tracked).catch((e: unknown) => log('warn', `cannot clear git locks of ${tracked.location}: ${describe(e)}`));
    },
    degraded: (tracked: TrackedPath, error: Error) => {
      if (!degraded.has(tracked.location)) log('error', describe(error));
      degraded.add(tracked.location);
      void status.update(tracked.location, { watching: 'polling', lastError: { message: error.message, time: new Date().toISOString() } });
    },
  };

  async function clearLocks(tracked: TrackedPath): Promise<void> {
    // As the path's only writer: a git lock no process holds then really is stale.
    const decision = await store.writing(tracked, () => clearStaleGitLocks(tracked.gitDir));
    for (const file of decision.remove) log('warn', `removed stale git lock ${file} (no process held it)`);
    for (const kept of decision.keep) log('info', `git lock ${kept.file} kept: ${kept.why}`);
  }

  /** Watch and reconcile one tracked path. */
  async function addWorker(tracked: TrackedPath): Promise<void> {
    if (workers.has(tracked.location)) return;
    await clearLocks(tracked);
    const worker = new PathWorker(tracked, store, scheduleFrom(settings), hooks);
    workers.set(tracked.location, worker);
    await status.update(tracked.location, { name: tracked.name, watching: 'inotify' });
    await worker.start();
    if (worker.watcher.state === 'watching') {
      degraded.delete(tracked.location);
      log('info', `watching ${tracked.location} (${worker.watcher.watchedDirectories} directories) as ${tracked.name}`);
    }
    await worker.reconcile('start');
    requestPush(tracked); // commits left unpushed by an earlier run
  }

  async function trackConfigured(paths: string[]): Promise<void> {
    for (const location of paths) {
      try {
        const { tracked, created } = await store.track(location);
        if (created) log('info', `now tracking ${tracked.location} as ${tracked.name} (pacha.watch)`);
      } catch (error) {
        log('error', `cannot track ${location} from pacha.watch: ${describe(error)}`);
      }
    }
  }

  async function reconcileAll(reason: string): Promise<void> {
    for (const worker of workers.values()) {
      // A degraded path tries to watch again at each reconcile (the limit may have been raised).
      const wasDegraded = worker.watcher.state === 'degraded';
      await worker.reconcile(reason);
      if (wasDegraded && (worker.watcher.state as string) === 'watching') {
        degraded.delete(worker.tracked.location);
        log('info', `watching ${worker.tracked.location} again (inotify)`);
        await status.update(worker.tracked.location, { watching: 'inotify' });
      }
    }
  }

  let reconcileTimer: NodeJS.Timeout | undefined;
  let reconciling: Promise<void> | undefined;
  const armReconcile = () => {
    if (reconcileTimer) clearInterval(reconcileTimer);
    const seconds = settings.get('pacha.frequency') ?? 60;
    reconcileTimer = setInterval(() => {
      reconciling ??= reconcileAll('periodic').finally(() => (reconciling = undefined));
    }, seconds * 1000);
  };

  async function reload(): Promise<void> {
    if (!options.reload) return;
    let fresh: Settings;
    try {
      fresh = await options.reload();
    } catch (error) {
      log('error', `configuration not reloaded, keeping the current one: ${describe(error)}`);
      return;
    }
    const before = new Set(settings.get('pacha.watch') ?? []);
    const after = fresh.get('pacha.watch') ?? [];
    settings = fresh;
    store.setIgnore(ignoreSettingsFrom(settings));
    for (const worker of workers.values()) worker.setSchedule(scheduleFrom(settings));
    armReconcile();
    await trackConfigured(after.filter((p) => !before.has(p)));
    const removed = [...before].filter((p) => !after.includes(p));
    for (const location of removed) {
      const tracked = await store.find(location);
      if (!tracked || tracked.location !== path.resolve(location)) continue;
      const worker = workers.get(tracked.location);
      await worker?.stop();
      workers.delete(tracked.location);
      queue.remove(tracked);
      others.remove(tracked);
      await store.push(tracked, master).catch((error: unknown) => log('warn', `last push of ${tracked.location} failed: ${describe(error)}`));
      await store.untrack(tracked.location);
      await status.forget(tracked.location);
      log('info', `stopped tracking ${tracked.location} (removed from pacha.watch); its history stays on the master as ${tracked.name}`);
    }
    for (const tracked of await store.list()) await addWorker(tracked);
    log('info', `configuration reloaded: watching ${workers.size} path${workers.size === 1 ? '' : 's'}`);
  }

  let stopping = false;
  let stopRequested: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
  let reloading: Promise<void> = Promise.resolve();
  const onTerm = () => stopRequested();
  const onHup = () => {
    log('info', 'SIGHUP: reloading the configuration');
    reloading = reloading.then(reload, reload);
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
    await trackConfigured(settings.get('pacha.watch') ?? []);
    for (const tracked of await store.list()) await addWorker(tracked);
    if (workers.size === 0) log('warn', 'nothing is tracked: set pacha.watch or run `pacha watch PATH`, then send SIGHUP');
    armReconcile();
    heartbeat = startHeartbeat({ store, master, intervalMs: (settings.get('pacha.fleet.heartbeat') ?? 3600) * 1000, log });
    options.onReady?.();
    await stopped;
    log('info', 'stopping: finishing the commit in progress and one push attempt');
  } finally {
    stopping = true;
    if (storage?.timer) clearTimeout(storage.timer);
    if (reconcileTimer) clearInterval(reconcileTimer);
    await reloading.catch(() => undefined);
    await reconciling?.catch(() => undefined);
    for (const worker of workers.values()) await worker.stop();
    await Promise.all([queue.drain(), others.drain()]);
    await heartbeat?.stop();
    for (const worker of workers.values()) await recordUnpushed(worker.tracked);
    await status.markStopped();
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
