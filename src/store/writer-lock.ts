// One writer per tracked path's git dir at a time, across processes: the daemon, `pacha
// push` from cron, `pacha rollback`, boot. Two writers at once made git's own index.lock
// and ref locks collide (`pacha push` beside a busy daemon failed 5 times in 11), and a
// lock seen between two git commands looked stale. Whoever wants to write waits its turn
// (bounded); inside the lock, a git lock file that no process holds really is stale.
//
// <state>/locks/<name>.commit.lock and <name>.push.lock (Store), O_EXCL, holding the
// holder's identity (src/fs/process-lock.ts);
// a killed holder's lock is taken over. Within one process the waiters queue in memory.
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OperationError } from '../errors.js';
import { createExclusive, formatLock, isHolderAlive, parseLock, readLockText, removeLockFile, selfIdentity, takeOverStale } from '../fs/process-lock.js';

/** How long a writer waits for another's turn to end: longer than a push to a hung master takes to time out. */
export const WRITER_WAIT_MS = 120_000;
const POLL_MS = 50;

const queues = new Map<string, Promise<unknown>>();

export interface WriterLockOptions {
  waitMs?: number;
  /** Told once when the lock is held by another process and this one starts waiting. */
  onWait?: (holderPid: number) => void;
}

/** Run `fn` holding `file`: after this process's earlier holders, and once no other process holds it. */
export async function withWriterLock<T>(file: string, fn: () => Promise<T>, options: WriterLockOptions = {}): Promise<T> {
  const previous = queues.get(file) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    const release = await acquire(file, options);
    try {
      return await fn();
    } finally {
      await release();
    }
  });
  const tail = run.catch(() => undefined);
  queues.set(file, tail);
  void tail.then(() => {
    if (queues.get(file) === tail) queues.delete(file);
  });
  return run;
}

async function acquire(file: string, options: WriterLockOptions): Promise<() => Promise<void>> {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const content = formatLock(await selfIdentity());
  const waitMs = options.waitMs ?? WRITER_WAIT_MS;
  const started = Date.now();
  let told = false;
  const want = `${file}.want`;
  await yieldToWaiter(want);
  for (;;) {
    if (createExclusive(file, content)) {
      if (told && readLockText(want) === content) removeLockFile(want);
      return async () => {
        // Only our own lock: never one a successor took after a takeover.
        if (readLockText(file) === content) removeLockFile(file);
      };
    }
    const holder = parseLock(readLockText(file) ?? '');
    if (holder && (await isHolderAlive(holder))) {
      if (!told) {
        options.onWait?.(holder.pid);
        // Say that someone waits, so a busy holder lets it in between two of its own turns.
        if (!createExclusive(want, content)) {
          const other = parseLock(readLockText(want) ?? '');
          if (!other || !(await isHolderAlive(other))) await writeFile(want, content).catch(() => undefined);
        }
      }
      told = true;
      if (Date.now() - started >= waitMs) {
        throw new OperationError('EBUSY', `${file} is still held by PID ${holder.pid} after ${Math.round(waitMs / 1000)} s`, {
          hint: 'another pacha process (the daemon?) is committing or pushing this path, and has been for long: is the master hanging? Try again later',
          details: { lockFile: file, pid: holder.pid },
        });
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    } else {
      await takeOverStale(file, holder);
    }
  }
}

/**
 * Fairness: a process that holds the lock again and again (the daemon, committing every few
 * hundred ms) would win every race against one that polls. When another live process says
 * it waits, give it up to a second to take its turn first.
 */
async function yieldToWaiter(want: string): Promise<void> {
  for (let waited = 0; waited < 1000; waited += POLL_MS) {
    const waiter = parseLock(readLockText(want) ?? '');
    if (!waiter || waiter.pid === process.pid || !(await isHolderAlive(waiter))) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
