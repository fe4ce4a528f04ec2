// One daemon per state dir: <state>/daemon.lock, created with O_EXCL, holding the PID.
//
// The state dir outlives reboots, and after a reboot a stale lock's PID may belong to some
// other process: the lock also records the holder's boot id and start time (from /proc),
// so a lock is live only if that very process still runs.
import { readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { PachaError } from '../errors.js';
import { createExclusive, formatLock, isHolderAlive, parseLock, selfIdentity, takeOverStale } from '../fs/process-lock.js';

export { formatLock, parseLock, selfIdentity, type ProcessIdentity } from '../fs/process-lock.js';

export class DaemonLockedError extends PachaError {
  override name = 'DaemonLockedError';
  constructor(lockFile: string, pid: number) {
    super('EDAEMONLOCKED', `another pacha daemon (PID ${pid}) holds ${lockFile}`, {
      hint: `stop it first (systemctl stop pacha, or kill ${pid}); one daemon per state dir`,
      details: { lockFile, pid },
    });
  }
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
    if (createExclusive(file, content)) return heldLock(file, content);
    const holder = parseLock(await readFile(file, 'utf8').catch(() => ''));
    if (holder && (await isHolderAlive(holder))) throw new DaemonLockedError(file, holder.pid);
    await takeOverStale(file, holder);
  }
  throw new PachaError('ELOCKCHANGING', `could not take ${file}: it keeps changing`, {
    hint: 'another pacha daemon is starting at the same moment; try again',
  });
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
