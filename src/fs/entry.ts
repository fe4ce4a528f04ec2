// What is at a path, without following a symlink: its type, its stats or nothing, and whether
// every directory on the way to it is a real one. The path-safety primitives every module
// that writes beneath a root (rebuild, rollback) or reads one (capture) shares.
import { lstatSync, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { fsPath } from './names.js';

export type EntryType = 'file' | 'directory' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket' | 'other';

export function entryType(stats: Stats): EntryType {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isCharacterDevice()) return 'char';
  if (stats.isBlockDevice()) return 'block';
  if (stats.isSocket()) return 'socket';
  return 'other';
}

/**
 * Whether a path is absolute with no '.', '..' or empty component and no trailing '/'
 * (except '/' itself): what path.normalize leaves as it is. Conservative: a component
 * starting with '.' (a dotfile) answers false. Pure.
 */
function isPlainAbsolute(p: string): boolean {
  return p.startsWith('/') && !p.includes('/.') && !p.includes('//') && (p.length === 1 || !p.endsWith('/'));
}

/** Whether a path is relative with no '.', '..' or empty component (conservative as isPlainAbsolute). Pure. */
function isPlainRelative(p: string): boolean {
  return p !== '' && !p.startsWith('/') && !p.startsWith('.') && !p.includes('/.') && !p.includes('//') && !p.endsWith('/');
}

/**
 * Absolute path of an entry under a root ('.' is the root itself): path.join's answer. Runs
 * per entry of a rebuild, whose JavaScript is interpreted (rebuild/v8-settings.ts), where
 * path.join's normalizing cost about 6 µs a call: plain paths are joined as strings.
 */
export function entryLocation(root: string, entryPath: string): string {
  if (entryPath === '.') return root;
  if (isPlainAbsolute(root) && isPlainRelative(entryPath)) return root === '/' ? `/${entryPath}` : `${root}/${entryPath}`;
  return path.join(root, entryPath);
}

/** lstat, or undefined when nothing is there. */
export async function lstatOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await lstat(fsPath(file));
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

export type AncestorProblem = { path: string; problem: 'symlink' | 'not-directory' | 'absent' };

/** lstat, or undefined when nothing is there; synchronous: one system call, no thread-pool hand-off (issue 14). */
export function lstatOrUndefinedSync(file: string): Stats | undefined {
  try {
    // No exception for ENOENT (the common answer when placing onto an empty host): building one costs more than the call.
    return lstatSync(fsPath(file), { throwIfNoEntry: false });
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/**
 * The first directory strictly between `root` and the entry that is not a real directory,
 * or undefined when all are. `verified` caches relative paths already seen to be real
 * directories (pass the same set for a whole tree). Synchronous lstat calls: it runs once
 * per entry of a tree, and most answers come from `verified`.
 */
export function ancestorProblem(root: string, entryPath: string, verified: Set<string>): AncestorProblem | undefined {
  if (entryPath === '.') return undefined;
  const parts = entryPath.split('/');
  let rel = '';
  for (const part of parts.slice(0, -1)) {
    rel = rel ? `${rel}/${part}` : part;
    if (verified.has(rel)) continue;
    const stats = lstatOrUndefinedSync(entryLocation(root, rel));
    if (!stats) return { path: rel, problem: 'absent' };
    if (stats.isSymbolicLink()) return { path: rel, problem: 'symlink' };
    if (!stats.isDirectory()) return { path: rel, problem: 'not-directory' };
    verified.add(rel);
  }
  return undefined;
}

/** Whether `child` is `parent` or lies beneath it (lexically; both absolute). Pure. */
export function isInside(parent: string, child: string): boolean {
  // Plain paths (the rebuild's, once per entry) by comparing strings; path.relative resolves both.
  if (isPlainAbsolute(parent) && isPlainAbsolute(child)) return child === parent || parent === '/' || child.startsWith(`${parent}/`);
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
