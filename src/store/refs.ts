// Reading and moving a ref of a local git dir without a git process, by git's own rules:
// a loose ref file wins over packed-refs; an update takes `<ref>.lock` (O_EXCL, as git does,
// so a git process and pacha never write a ref at once), checks the old value
// (compare-and-swap), appends the reflog line and renames the lock into place.
// Synchronous: a handful of system calls on the local state dir, each cheaper than a round
// trip through the thread pool (a commit of one edit reads and moves refs several times).
import { appendFileSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { OperationError, errnoCode } from '../errors.js';
import { createExclusive, removeLockFile } from '../fs/process-lock.js';

const ZERO = '0'.repeat(40);

/** The branch pacha commits to, in every tracked path's git dir (commit.ts re-exports it). */
export const BRANCH = 'refs/heads/main';

/** A ref's commit id, or undefined when it does not exist. */
export function readRef(gitDir: string, ref: string): string | undefined {
  const loose = readOr(path.join(gitDir, ref), (error) => {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'EISDIR') return undefined;
    throw error;
  });
  if (loose !== undefined) {
    const value = loose.trim();
    if (/^[0-9a-f]{40}$/.test(value)) return value;
    if (value.startsWith('ref: ')) return readRef(gitDir, value.slice(5));
    return undefined;
  }
  const packed = readOr(path.join(gitDir, 'packed-refs'), () => '') ?? '';
  for (const line of packed.split('\n')) {
    if (line.endsWith(` ${ref}`) && /^[0-9a-f]{40} /.test(line)) return line.slice(0, 40);
  }
  return undefined;
}

/**
 * Set `ref` to `next` if it is `expected` now (undefined: it must not exist). Throws
 * ECONCURRENT when another writer moved it or holds its lock.
 */
export function updateRef(gitDir: string, ref: string, next: string, expected: string | undefined, reflog?: { who: string; message: string }): void {
  const file = path.join(gitDir, ref);
  const lock = `${file}.lock`;
  mkdirSync(path.dirname(file), { recursive: true });
  if (!createExclusive(lock, `${next}\n`)) throw new OperationError('ECONCURRENT', `${ref} of ${gitDir} is being updated by another process (${lock} exists); try again`);
  try {
    const current = readRef(gitDir, ref);
    if (current !== expected) {
      throw new OperationError('ECONCURRENT', `${ref} of ${gitDir} moved to ${current ?? 'nothing'} (expected ${expected ?? 'nothing'}); another process committed at the same time; try again`);
    }
    if (reflog) {
      const seconds = Math.floor(Date.now() / 1000);
      const logFile = path.join(gitDir, 'logs', ref);
      mkdirSync(path.dirname(logFile), { recursive: true });
      appendFileSync(logFile, `${expected ?? ZERO} ${next} ${reflog.who} ${seconds} +0000\t${reflog.message}\n`);
    }
    renameSync(lock, file);
  } catch (error) {
    removeLockFile(lock);
    throw error;
  }
}

/** A file's text, or what `fallback` makes of the error reading it. */
function readOr(file: string, fallback: (error: unknown) => string | undefined): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    return fallback(error);
  }
}
