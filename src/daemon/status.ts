// <state>/daemon.json: what the daemon did last, per tracked path, for `pacha status`.
// Written atomically (beside, then renamed) so a reader never sees half a file; writes are
// serialized and coalesced, so a burst of commits costs one or two writes, not hundreds.
import { constants } from 'node:fs';
import { access, readFile, statfs } from 'node:fs/promises';
import path from 'node:path';
import { redactDeep } from '../config/redact.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { runningDaemon } from './lock.js';

export interface PathStatus {
  name: string;
  /** 'inotify', or 'polling' when watching failed (watch limit) and only reconcile scans run. */
  watching: 'inotify' | 'polling';
  lastCommit?: { sha: string; time: string; changed: string[] };
  lastPush?: { time: string; sha: string };
  /** Commits waiting on disk for the master. */
  unpushed: number;
  lastError?: { message: string; time: string };
  diverged?: { ref: string; time: string };
}

export interface DaemonStatus {
  pid: number;
  started: string;
  /** The state dir's disk failed the daemon (full, read-only, I/O error): commits wait until it recovers. */
  storage?: { fault: string; message: string; since: string };
  /** Set when the daemon stopped cleanly. */
  stopped?: string;
  paths: Record<string, PathStatus>;
}

export const STATUS_FILE = 'daemon.json';

export class StatusFile {
  private readonly status: DaemonStatus;
  private writing: Promise<void> | undefined;
  private dirty = false;
  /** The last write's failure (a full disk), until a write succeeds. */
  writeError: unknown;
  /** Told about a failed write (the first of a run of failures) and about the next success. */
  onWriteError: ((error: unknown) => void) | undefined;
  onWriteRecovered: (() => void) | undefined;

  constructor(
    readonly stateDir: string,
    started = new Date(),
  ) {
    this.status = { pid: process.pid, started: started.toISOString(), paths: {} };
  }

  get file(): string {
    return path.join(this.stateDir, STATUS_FILE);
  }

  snapshot(): DaemonStatus {
    return structuredClone(this.status);
  }

  /** Merge into one path's entry (created on first use) and schedule a write. */
  update(location: string, patch: Partial<PathStatus> & { name?: string }): Promise<void> {
    const current = this.status.paths[location] ?? { name: patch.name ?? path.basename(location), watching: 'inotify', unpushed: 0 };
    this.status.paths[location] = { ...current, ...patch };
    return this.save();
  }

  forget(location: string): Promise<void> {
    delete this.status.paths[location];
    return this.save();
  }

  setStorage(storage: DaemonStatus['storage']): Promise<void> {
    if (storage) this.status.storage = storage;
    else delete this.status.storage;
    return this.save();
  }

  markStopped(at = new Date()): Promise<void> {
    this.status.stopped = at.toISOString();
    return this.save();
  }

  /**
   * Write now, or once more after the write in progress; resolves when the file holds this
   * state, or when writing failed (never rejects: a full disk must not stop the daemon; the
   * state stays in memory, the failure in writeError, and the next save writes it all).
   */
  save(): Promise<void> {
    this.dirty = true;
    if (!this.writing) {
      this.writing = (async () => {
        while (this.dirty) {
          this.dirty = false;
          try {
            await writeFileAtomic(this.file, JSON.stringify(redactDeep(this.status), null, 2) + '\n', 0o600);
          } catch (error) {
            if (this.writeError === undefined) this.onWriteError?.(error);
            this.writeError = error;
            return;
          }
          if (this.writeError !== undefined) {
            this.writeError = undefined;
            this.onWriteRecovered?.();
          }
        }
      })().finally(() => (this.writing = undefined));
      return this.writing;
    }
    const pending = this.writing;
    return pending.then(() => (this.dirty ? this.save() : undefined));
  }
}

export interface DaemonState {
  /** PID of the running daemon, or undefined. */
  running: number | undefined;
  /** Last status written (by the running daemon, or the last one that ran). */
  status: DaemonStatus | undefined;
}

/** For `pacha status`: is a daemon running, and what did it (or the last one) report. */
export async function readDaemonState(stateDir: string): Promise<DaemonState> {
  const running = await runningDaemon(stateDir);
  let status: DaemonStatus | undefined;
  try {
    status = JSON.parse(await readFile(path.join(stateDir, STATUS_FILE), 'utf8')) as DaemonStatus;
  } catch {
    status = undefined;
  }
  return { running, status };
}

/** Below this many free bytes the state dir counts as full (a commit needs room for objects). */
export const LOW_SPACE_BYTES = 1024 * 1024;

export interface StateDirHealth {
  freeBytes: number | null;
  writable: boolean;
  /** What is wrong, in words; undefined when nothing is. */
  problem?: string;
}

/**
 * The state dir's disk as `pacha status` sees it, read without writing anything: when the
 * disk is full, the daemon's own status file is among what cannot be written.
 */
export async function stateDirHealth(stateDir: string): Promise<StateDirHealth> {
  let freeBytes: number | null = null;
  try {
    const fs = await statfs(stateDir);
    freeBytes = fs.bavail * fs.bsize;
  } catch {
    freeBytes = null;
  }
  let writable = true;
  let problem: string | undefined;
  try {
    await access(stateDir, constants.W_OK);
  } catch (error) {
    writable = false;
    const code = error && typeof error === 'object' && 'code' in error ? String(error.code) : 'error';
    problem = code === 'EROFS' ? 'read-only file system (EROFS)' : `not writable (${code})`;
  }
  if (!problem && freeBytes !== null && freeBytes < LOW_SPACE_BYTES) problem = `almost full: ${freeBytes} bytes free (ENOSPC)`;
  return { freeBytes, writable, ...(problem ? { problem } : {}) };
}
