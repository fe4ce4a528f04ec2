// Lock files held by a process: created with O_EXCL, holding "PID\nboot start\n".
//
// A lock's holder is live only if that very process still runs: the boot id and the start
// time (from /proc) are recorded beside the PID, because after a reboot or a crash the PID
// may belong to some other process. A dead holder's lock is taken over, one taker at a time.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { errnoCode } from '../errors.js';

/** A lock file still empty after this long was left by a holder killed while creating it. */
const UNWRITTEN_GRACE_MS = 2000;

export interface ProcessIdentity {
  pid: number;
  /** /proc/sys/kernel/random/boot_id */
  boot: string;
  /** Field 22 of /proc/PID/stat: start time in clock ticks since boot. */
  start: string;
}

/** Parse a lock file: "PID\nboot start\n". The first line alone (older or hand-made lock) is accepted. */
export function parseLock(text: string): { pid: number; boot?: string; start?: string } | undefined {
  const [first, second] = text.split('\n');
  const pid = Number(first?.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const [boot, start] = (second ?? '').trim().split(/\s+/);
  return boot && start ? { pid, boot, start } : { pid };
}

export function formatLock(id: ProcessIdentity): string {
  return `${id.pid}\n${id.boot} ${id.start}\n`;
}

async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
}

/** Start time of a process, or undefined if it does not exist. */
async function startTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

let self: Promise<ProcessIdentity> | undefined;

/** This process's identity (read once: it does not change while the process lives). */
export function selfIdentity(): Promise<ProcessIdentity> {
  self ??= (async () => ({ pid: process.pid, boot: await bootId(), start: (await startTime(process.pid)) ?? '0' }))().catch((error: unknown) => {
    self = undefined;
    throw error;
  });
  return self;
}

/** Is the process that wrote this lock still running? */
export async function isHolderAlive(lock: { pid: number; boot?: string; start?: string }): Promise<boolean> {
  const start = await startTime(lock.pid);
  if (start === undefined) return false;
  if (lock.boot === undefined || lock.start === undefined) return true; // no identity recorded: trust the PID
  return lock.boot === (await bootId()) && lock.start === start;
}

/**
 * Create `file` with `content` if it does not exist; false if it does (the O_EXCL lock both
 * process locks and git's ref locks are). Synchronous: three
 * system calls on a local disk, in the path of every commit and push. Not flushed to disk: a
 * lock lives only as long as its holder, and after a crash it is stale whatever the disk kept
 * (another boot id; an empty file is taken over after UNWRITTEN_GRACE_MS), while a flush costs
 * every commit and every push tens of ms on a busy disk.
 */
export function createExclusive(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, content);
  } catch (error) {
    // A file this call made but could not fill (a full disk) is no one's: gone at once.
    closeSync(fd);
    removeLockFile(file);
    throw error;
  }
  closeSync(fd);
  return true;
}

/** A lock file's text; undefined when it cannot be read (gone, or not there yet). */
export function readLockText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Remove a lock file this process owns; one already gone is fine. */
export function removeLockFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}

/**
 * Remove a dead holder's lock. Two processes may find the same stale lock at once; a guard
 * file (itself O_EXCL) lets one of them check-and-remove at a time, so neither removes the
 * lock the other just took.
 */
export async function takeOverStale(file: string, seen: { pid: number } | undefined): Promise<void> {
  const guard = `${file}.takeover`;
  if (!createExclusive(guard, `${process.pid}\n`)) {
    const guardHolder = parseLock(await readFile(guard, 'utf8').catch(() => ''));
    if (!guardHolder || !(await isHolderAlive(guardHolder))) await rm(guard, { force: true });
    await new Promise((r) => setTimeout(r, 50));
    return;
  }
  try {
    const now = parseLock(await readFile(file, 'utf8').catch(() => ''));
    if (now === undefined) {
      // Empty or unreadable: a holder may be between creating the file and writing its PID.
      // Only a file left like that for a while is a crash's leftover.
      const age = await stat(file).then((s) => Date.now() - s.mtimeMs, () => undefined);
      if (age !== undefined && age > UNWRITTEN_GRACE_MS) await rm(file, { force: true });
      else await new Promise((r) => setTimeout(r, 20));
    } else if (now.pid === seen?.pid && !(await isHolderAlive(now))) {
      await rm(file, { force: true });
    }
  } finally {
    await rm(guard, { force: true });
  }
}
