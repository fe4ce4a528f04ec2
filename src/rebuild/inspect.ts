// What is there now: the staged checkout (what will be placed) and the target (what it
// would displace). Read-only. Never follows a symlink: every path is lstat'ed, and its
// ancestors below the root too, so a symlinked directory is seen, not walked through.
import { readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { OperationError } from '../errors.js';
import { ancestorProblem, entryLocation, entryType, lstatOrUndefined, lstatOrUndefinedSync, type EntryType } from '../fs/entry.js';
import { decodeName, fsPath } from '../fs/names.js';
import { sameBytes } from '../fs/same-bytes.js';
import type { Metadata } from '../store/metadata.js';
import { readXattrs, type Xattrs } from '../store/xattrs.js';

export type TargetFacts =
  | { kind: 'absent' }
  /** A directory between the target root and the entry is a symlink: nothing may be written there. */
  | { kind: 'blocked'; symlink: string }
  | {
      kind: 'present';
      type: EntryType;
      mode: number;
      uid: number;
      gid: number;
      size: number;
      dev: number;
      ino: number;
      /** Names of its inode, wherever they are: a file linked to another is not placed yet. */
      nlink: number;
      /** Character and block devices: the device they stand for. */
      rdev: number;
      mtimeMs: number;
      /** Symlinks: their target. */
      linkTarget?: string;
      /** Files whose size equals the staged file's: whether the bytes are equal too. */
      sameContent?: boolean;
      /** Extended attributes, when they were read (the metadata recorded them and getfattr is here). */
      xattrs?: Xattrs;
    };

export interface StagedFile {
  /** Absolute path in the stage. */
  source: string;
  size: number;
}

export interface TargetInspection {
  /** What the target root itself is now. */
  root: 'absent' | EntryType;
  /** Keyed by entry path. */
  facts: Map<string, TargetFacts>;
  /** Paths in the target that the metadata does not list (left alone). Directories are not descended. */
  extras: string[];
}

/**
 * Run `fn` over `items` with at most `limit` in flight, results in order. After a failure
 * nothing new starts, and the first error is thrown once those in flight have settled (a
 * clone or a write never goes on behind the caller's back).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

function stageError(repository: string, entryPath: string, why: string): OperationError {
  return new OperationError('EUNSAFE', `repository "${repository}": refused ${JSON.stringify(entryPath)}: ${why}`, {
    hint: `The checkout of "${repository}" disagrees with its .pacha/metadata.json; nothing was touched. Inspect that repository on the master.`,
    details: { repository, path: entryPath },
  });
}

/**
 * The staged checkout's regular files, keyed by entry path. Refuses a checkout where a
 * file entry is missing, is not a regular file (a symlink would make the copy read
 * through it), or lies beneath a symlink; or where a directory entry is something else.
 * Empty directories are not in git, so a directory entry may be absent from the stage.
 */
export async function inspectStage(stageTree: string, metadata: Metadata, repository: string): Promise<Map<string, StagedFile>> {
  const files = new Map<string, StagedFile>();
  const verified = new Set<string>();
  // Synchronous lstat calls: one system call per entry (through the promise API, each also
  // cost a thread-pool hand-off and most of planning).
  for (const entry of metadata.entries) {
    if (entry.type !== 'file' && entry.type !== 'directory') continue;
    const problem = ancestorProblem(stageTree, entry.path, verified);
    if (problem?.problem === 'symlink' || problem?.problem === 'not-directory') {
      throw stageError(repository, entry.path, `in the checkout, "${problem.path}" is not a directory`);
    }
    const source = entryLocation(stageTree, entry.path);
    const stats = problem ? undefined : lstatOrUndefinedSync(source);
    if (entry.type === 'directory') {
      if (stats && !stats.isDirectory()) throw stageError(repository, entry.path, 'the checkout has something other than a directory there');
      continue;
    }
    if (!stats) throw stageError(repository, entry.path, 'the metadata lists a file the checkout does not have');
    if (!stats.isFile()) throw stageError(repository, entry.path, `the checkout has a ${entryType(stats)} where the metadata lists a file`);
    files.set(entry.path, { source, size: stats.size });
  }
  return files;
}

async function factsOf(targetRoot: string, entryPath: string, verified: Set<string>, staged: StagedFile | undefined): Promise<TargetFacts> {
  const problem = ancestorProblem(targetRoot, entryPath, verified);
  if (problem?.problem === 'symlink') return { kind: 'blocked', symlink: problem.path };
  if (problem) return { kind: 'absent' }; // a missing or non-directory ancestor: the entry cannot be there
  const file = entryLocation(targetRoot, entryPath);
  const stats = await lstatOrUndefined(file);
  if (!stats) return { kind: 'absent' };
  const facts: TargetFacts = {
    kind: 'present',
    type: entryType(stats),
    mode: stats.mode & 0o7777,
    uid: stats.uid,
    gid: stats.gid,
    size: stats.size,
    dev: stats.dev,
    ino: stats.ino,
    nlink: stats.nlink,
    rdev: stats.rdev,
    mtimeMs: stats.mtimeMs,
  };
  if (stats.isSymbolicLink()) facts.linkTarget = decodeName(await readlink(fsPath(file), { encoding: 'buffer' }));
  if (stats.isFile() && staged && staged.size === stats.size) facts.sameContent = await sameBytes(staged.source, file);
  return facts;
}

/**
 * Facts about every entry's current target under `targetRoot`, and the extras: what the
 * target holds beside the listed entries (not for a single tracked file, whose directory
 * holds other, untracked files by design).
 */
export async function inspectTarget(targetRoot: string, metadata: Metadata, staged: Map<string, StagedFile>): Promise<TargetInspection> {
  const verified = new Set<string>();
  const rootStats = await lstatOrUndefined(targetRoot);
  const root = rootStats ? entryType(rootStats) : 'absent';
  const facts = new Map<string, TargetFacts>();
  if (root !== 'directory') {
    // Nothing can be beneath an absent, symlinked or non-directory root; the plan decides about '.'.
    for (const entry of metadata.entries) facts.set(entry.path, { kind: 'absent' });
    if (rootStats && metadata.entries.some((e) => e.path === '.')) facts.set('.', await factsOf(targetRoot, '.', verified, undefined));
    return { root, facts, extras: [] };
  }
  const results = await mapLimit(metadata.entries, 16, (entry) => factsOf(targetRoot, entry.path, verified, staged.get(entry.path)));
  metadata.entries.forEach((entry, i) => facts.set(entry.path, results[i] as TargetFacts));
  if (metadata.xattrs !== false) {
    const root = metadata.single ? entryLocation(targetRoot, metadata.entries[0]?.path ?? '.') : targetRoot;
    const xattrs = await readXattrs(root, !metadata.single).catch(() => undefined);
    if (xattrs) {
      for (const entry of metadata.entries) {
        const fact = facts.get(entry.path);
        if (fact?.kind === 'present') fact.xattrs = xattrs.get(entryLocation(targetRoot, entry.path)) ?? {};
      }
    }
  }
  return { root, facts, extras: metadata.single ? [] : await findExtras(targetRoot, metadata, facts) };
}

/** Children of listed (or implied) directories that the metadata does not list. */
async function findExtras(targetRoot: string, metadata: Metadata, facts: Map<string, TargetFacts>): Promise<string[]> {
  const listed = new Set<string>(['.']);
  const directories = new Set<string>(['.']);
  for (const entry of metadata.entries) {
    listed.add(entry.path);
    if (entry.type === 'directory') directories.add(entry.path);
    for (let parent = path.posix.dirname(entry.path); parent !== '.'; parent = path.posix.dirname(parent)) {
      listed.add(parent);
      directories.add(parent);
    }
  }
  const extras: string[] = [];
  for (const dir of [...directories].sort()) {
    const known = facts.get(dir);
    if (known && !(known.kind === 'present' && known.type === 'directory')) continue;
    const verified = new Set<string>();
    if (!known) {
      // An implied directory: make sure it is a real directory reached without symlinks.
      if (ancestorProblem(targetRoot, `${dir}/x`, verified)) continue;
    }
    let names: string[];
    try {
      names = (await readdir(fsPath(entryLocation(targetRoot, dir)), { encoding: 'buffer' })).map(decodeName);
    } catch {
      continue;
    }
    for (const name of names) {
      const child = dir === '.' ? name : `${dir}/${name}`;
      if (!listed.has(child)) extras.push(child);
    }
  }
  return extras.sort();
}
