// One daemon per state dir: <state>/daemon.lock, created with O_EXCL, holding the PID.
//
// The state dir outlives reboots, and after a reboot a stale lock's PID may belong to some
// other process: the lock also records the holder's boot id and start time (from /proc),
// so a lock is live only if that very process still runs.
import { readFile, open, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ExitCode, PachaError, errnoCode } from '../errors.js';

export class DaemonLockedError extends PachaError {
  override name = 'DaemonLockedError';
  constructor(lockFile: string, pid: number) {
    super('EDAEMONLOCKED', ExitCode.usage, `another pacha daemon (PID ${pid}) holds ${lockFile}`, {
      hint: `stop it first (systemctl stop pacha, or kill ${pid}); one daemon per state dir`,
      details: { lockFile, pid },
    });
  }
}

export interface ProcessIdentity {
  pid: number;
  /** /proc/sys/kernel/random/boot_id */
  boot: string;
  /** Field 22 of /proc/PID/stat: start time in clock ticks since boot. */
  start: string;
}

/** Parse the lock file: "PID\nboot start\n". The first line alone (older or hand-made lock) is accepted. */
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

export async function selfIdentity(): Promise<ProcessIdentity> {
  return { pid: process.pid, boot: await bootId(), start: (await startTime(process.pid)) ?? '0' };
}

/** Is the process that wrote this lock still running? */
async function isHolderAlive(lock: { pid: number; boot?: string; start?: string }): Promise<boolean> {
  const start = await startTime(lock.pid);
  if (start === undefined) return false;
  if (lock.boot === undefined || lock.start === undefined) return true; // no identity recorded: trust the PID
  return lock.boot === (await bootId()) && lock.start === start;
}

/** The PID of the daemon holding <stateDir>/daemon.lock, or undefined when none runs. */
export async function runningDaemon(stateDir: string): Promise<number | undefined> {
  const holder = parseLock(await readFile(path.join(stateDir, 'daemon.lock'), 'utf8').catch(() => ''));
  return holder && (await isHolderAlive(holder)) ? holder.pid : undefined;
}

export interface DaemonLock {
  readonly file: string;
  release(): Promise<void>;
}

/** Take <stateDir>/daemon.lock, or throw DaemonLockedError naming the holder. */
export async function acquireDaemonLock(stateDir: string): Promise<DaemonLock> {
  const file = path.join(stateDir, 'daemon.lock');
  const me = await selfIdentity();
  const content = formatLock(me);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusive(file, content)) return heldLock(file, content);
    const holder = parseLock(await readFile(file, 'utf8').catch(() => ''));
    if (holder && (await isHolderAlive(holder))) throw new DaemonLockedError(file, holder.pid);
    await takeOverStale(file, holder);
  }
  throw new PachaError('EDAEMONLOCKED', ExitCode.failed, `could not take ${file}: it keeps changing`, {
    hint: 'another pacha daemon is starting at the same moment; try again',
  });
}

async function createExclusive(file: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'wx', 0o644);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Remove a dead holder's lock. Two daemons may find the same stale lock at once; a guard
 * file (itself O_EXCL) lets one of them check-and-remove at a time, so neither removes the
 * lock the other just took.
 */
async function takeOverStale(file: string, seen: { pid: number } | undefined): Promise<void> {
  const guard = `${file}.takeover`;
  if (!(await createExclusive(guard, `${process.pid}\n`))) {
    const guardHolder = parseLock(await readFile(guard, 'utf8').catch(() => ''));
    if (!guardHolder || !(await isHolderAlive(guardHolder))) await rm(guard, { force: true });
    await new Promise((r) => setTimeout(r, 50));
    return;
  }
  try {
    const now = parseLock(await readFile(file, 'utf8').catch(() => ''));
    if (now?.pid === seen?.pid && !(now && (await isHolderAlive(now)))) await rm(file, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

function heldLock(file: string, content: string): DaemonLock {
  return {
    file,
    async release() {
      // Only our own lock: never remove one a successor took after us.
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === content) await unlink(file).catch(() => undefined);
    },
  };
}
