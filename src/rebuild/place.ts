// Placing a plan: the only part of a rebuild that writes into tracked paths.
// - Every file is written beside its target under an exclusive temp name, given its owner
//   then its mode (chown clears setuid bits), then renamed over the target: a reader sees
//   the old file or the new one, never half of one, and never a secret with loose modes.
// - Nothing is written through a symlink: the target root and every directory between it
//   and an entry is lstat'ed before writing, and temp files are opened O_EXCL|O_NOFOLLOW.
// - Whatever is displaced is kept under <state>/backups/<time>/<host path>.
// - Directories are created 0700 and given their mode and owner last, deepest first, so a
//   0555 or foreign-owned directory does not block placing what it contains.
import { execFile } from 'node:child_process';
import { closeSync, constants, existsSync, fchmodSync, fchownSync, fstatSync, lchownSync, linkSync, mkdirSync, openSync, renameSync, symlinkSync, type Stats } from 'node:fs';
import { chmod, cp, link, lchown, mkdir, open, readdir, readlink, realpath, rename, rm, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { minimalEnv } from '../child-env.js';
import { errnoCode, isPachaError, OperationError } from '../errors.js';
import { fileStamp } from '../fs/file-stamp.js';
import { fsPath } from '../fs/names.js';
import { restoreXattrs, writeXattr } from '../store/xattrs.js';
import { ancestorProblem, entryLocation, entryType, isInside, lstatOrUndefined, lstatOrUndefinedSync } from '../fs/entry.js';
import { isPachaTemp, tempNameBeside } from '../fs/temp-name.js';
import { mapLimit } from './inspect.js';
import type { Plan, PlannedEntry, PlanAction } from './plan.js';
import type { OwnerNotFound } from './owners.js';

export interface PlaceProgress {
  repository: string;
  path: string;
  action: PlanAction;
  /** Bytes written for this entry (0 unless a file was written). */
  bytes: number;
}

export interface PlaceOptions {
  /** '/' normally, or the --root DIR: the target root must resolve inside it. */
  root: string;
  /** `<state>/backups/<time>` (backupDirFor), one per rebuild. */
  backupDir: string;
  onProgress?: (progress: PlaceProgress) => void;
  /** Files written at once (default 8). */
  concurrency?: number;
  /**
   * The stage is thrown away after placing (a rebuild): its regular files are moved into
   * place instead of copied. Otherwise (tests, a stage placed twice) they are copied.
   */
  consumeStage?: boolean;
}

/** What placing did to a repository's entries, counted: per repository and, summed, per rebuild. */
export interface PlacedCounts {
  /** Entries in the repository. */
  files: number;
  /** Bytes written. */
  bytes: number;
  written: number;
  unchanged: number;
  metadataUpdated: number;
  backedUp: number;
}

export interface PlaceResult extends PlacedCounts {
  repository: string;
  location: string;
  targetRoot: string;
  /** Where displaced entries were kept (absolute paths under the backup dir). */
  backups: string[];
  skipped: string[];
  /** Entries that could not be made on this system (a device node without CAP_MKNOD): exit 4. */
  failed: Array<{ path: string; reason: string }>;
  ownersNotFound: OwnerNotFound[];
  extras: string[];
  /** Temporary files an interrupted run left in the target, removed (relative to the target root). */
  cleaned: string[];
  durationMs: number;
}

/** `<stateDir>/backups/<UTC time>`: sortable, no ':' (awkward in shells and some filesystems). */
export function backupDirFor(stateDir: string, when: Date = new Date()): string {
  return path.join(stateDir, 'backups', fileStamp(when));
}

function unsafe(plan: Plan, entryPath: string, why: string): OperationError {
  return new OperationError('EUNSAFE', `repository "${plan.repository}": refused to place ${JSON.stringify(entryPath)} under ${plan.targetRoot}: ${why}`, {
    hint: 'Nothing was written through a symlink or outside the tracked path. Inspect the target, move the offending entry aside, and rebuild again.',
    details: { repository: plan.repository, path: entryPath, targetRoot: plan.targetRoot },
  });
}


const CHUNK = 256 * 1024;
const NOFOLLOW_READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Placing one repository's plan: the state shared by its steps. */
class Placement {
  readonly verified = new Set<string>();
  readonly result: PlaceResult;
  /** A rename out of the stage failed with EXDEV: files are copied from then on. */
  acrossFilesystems = false;
  /** Files whose staged copy already has its owner, mode and attributes (prepareStaged): their sizes. */
  private readonly prepared = new Map<string, number>();
  /** Directories this placement made (0700 until phase 3): nobody but root and pacha can have put anything in them. */
  private readonly made = new Set<string>();

  constructor(
    readonly plan: Plan,
    readonly options: PlaceOptions,
  ) {
    this.result = {
      repository: plan.repository,
      location: plan.location,
      targetRoot: plan.targetRoot,
      files: plan.entries.length,
      bytes: 0,
      written: 0,
      unchanged: 0,
      metadataUpdated: 0,
      backedUp: 0,
      backups: [],
      skipped: [],
      failed: [],
      ownersNotFound: plan.ownersNotFound,
      extras: plan.extras,
      cleaned: [],
      durationMs: 0,
    };
  }

  /** The target root: never a symlink; created (parents 0755, itself 0700 until its mode is set) when absent. */
  async prepareRoot(): Promise<void> {
    const { targetRoot } = this.plan;
    const stats = await lstatOrUndefined(targetRoot);
    if (stats?.isSymbolicLink()) throw unsafe(this.plan, '.', 'the target root is a symlink');
    if (stats && !stats.isDirectory()) throw unsafe(this.plan, '.', `the target root is not a directory`);
    // Symlinks above the target root are the host's business (/opt → /data/opt), but under
    // --root an image's absolute symlink (/var/run → /run) would lead onto this host:
    // check where the nearest existing ancestor resolves before creating anything.
    await this.checkInsideRoot(await nearestExisting(targetRoot));
    if (!stats) {
      await mkdir(path.dirname(targetRoot), { recursive: true, mode: 0o755 });
      const managed = this.plan.entries.some((e) => e.path === '.');
      await mkdir(targetRoot, { mode: managed ? 0o700 : 0o755 });
      if (managed) this.made.add('.');
      await this.checkInsideRoot(targetRoot);
    }
  }

  /**
   * pacha's own temporary files left by an interrupted run (written beside their target,
   * killed before the rename): the plan's leftovers, and for a single file the ones in its
   * directory. Only regular files and symlinks, never through a symlinked directory.
   */
  async removeLeftovers(): Promise<void> {
    const { targetRoot } = this.plan;
    const found = [...this.plan.leftovers];
    if (this.plan.single) {
      const names = await readdir(targetRoot).catch(() => [] as string[]);
      found.push(...names.filter(isPachaTemp));
    }
    for (const relative of found) {
      const file = path.join(targetRoot, relative);
      const parent = await realpath(path.dirname(file)).catch(() => undefined);
      if (parent === undefined || !isInside(await realpath(targetRoot), parent)) continue;
      const stats = await lstatOrUndefined(file);
      if (!stats || stats.isDirectory()) continue;
      await rm(file, { force: true });
      this.result.cleaned.push(relative);
    }
  }

  private async checkInsideRoot(existing: string): Promise<void> {
    const [realRoot, real] = await Promise.all([realpath(this.options.root), realpath(existing)]);
    if (!isInside(realRoot, real)) {
      throw unsafe(this.plan, '.', `${existing} resolves to ${real}, outside ${realRoot}`);
    }
  }

  /** Absolute target of an entry, after checking every directory between the root and it (creating implied ones 0755). */
  async safeTarget(entryPath: string): Promise<string> {
    const { targetRoot } = this.plan;
    for (;;) {
      const problem = ancestorProblem(targetRoot, entryPath, this.verified);
      if (!problem) break;
      if (problem.problem !== 'absent') throw unsafe(this.plan, entryPath, `"${problem.path}" is a ${problem.problem === 'symlink' ? 'symlink' : 'non-directory'}`);
      try {
        await mkdir(fsPath(path.join(targetRoot, problem.path)), { mode: 0o755 });
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw error;
      }
    }
    const target = entryLocation(targetRoot, entryPath);
    if (!isInside(targetRoot, target)) throw unsafe(this.plan, entryPath, 'it resolves outside the target root');
    return target;
  }

  /**
   * Keep what is at `target` under the backup dir. `moveAway`: the caller needs the path
   * free (it makes a directory there, or the old entry is a directory a rename cannot
   * replace); otherwise the old entry stays in place and is hard-linked (or copied) so
   * that the rename over it stays atomic.
   */
  async keep(entryPath: string, target: string, stats: Stats, moveAway: boolean): Promise<void> {
    const backup = await keepInBackups({ backupDir: this.options.backupDir, hostRoot: this.plan.hostRoot, entryPath, target, stats, moveAway });
    this.result.backedUp++;
    this.result.backups.push(backup);
  }

  /** Make sure nothing but a real directory is at a directory entry's path: phase 1 (parents first). */
  async createDirectory(entry: PlannedEntry): Promise<void> {
    if (entry.path === '.') return; // prepareRoot made it
    const target = await this.safeTarget(entry.path);
    // Synchronous, as moveStaged: no thread-pool hand-off per directory.
    const stats = lstatOrUndefinedSync(target);
    if (stats?.isDirectory()) return;
    if (stats?.isSymbolicLink()) throw unsafe(this.plan, entry.path, 'a symlink stands where the directory goes');
    if (stats) await this.keep(entry.path, target, stats, true);
    mkdirSync(fsPath(target), { mode: 0o700 });
    this.verified.add(entry.path);
    this.made.add(entry.path);
  }

  /** A directory's owner then mode: phase 3 (deepest first). */
  async finishDirectory(entry: PlannedEntry): Promise<void> {
    const target = await this.safeTarget(entry.path);
    // Synchronous, as moveStaged: four system calls and no thread-pool hand-offs.
    const fd = openSync(fsPath(target), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      fchownSync(fd, entry.uid, entry.gid);
      fchmodSync(fd, entry.mode);
    } finally {
      closeSync(fd);
    }
    await this.applyXattrs(entry, target, entry.action === 'create' || entry.action === 'replace');
  }

  /**
   * Write a file, symlink, special file or hard link beside its target (owner then mode),
   * then rename it over. A special file is made by mknod(1), which takes its name as a
   * string: for a name that is not UTF-8 it is made at the target root and renamed across.
   * A regular file is not written but moved out of the stage (moveStaged).
   */
  async writeEntry(entry: PlannedEntry): Promise<number> {
    const target = await this.safeTarget(entry.path);
    if (this.movesStaged(entry)) return this.moveStaged(entry, target);
    const special = entry.type === 'fifo' || entry.type === 'char' || entry.type === 'block';
    const temp = special && fsPath(target) !== target ? tempNameBeside(path.join(this.plan.targetRoot, 'x')) : tempNameBeside(target);
    let bytes = 0;
    try {
      // Links and symlinks by synchronous calls, as moveStaged: no thread-pool hand-off each.
      if (entry.linkTo !== undefined) {
        linkSync(fsPath(await this.safeTarget(entry.linkTo)), fsPath(temp));
      } else if (entry.type === 'symlink') {
        symlinkSync(fsPath(entry.linkTarget ?? ''), fsPath(temp));
        lchownSync(fsPath(temp), entry.uid, entry.gid);
        await this.applyXattrs(entry, temp, true);
      } else if (special) {
        await makeNode(entry, temp);
        await lchown(temp, entry.uid, entry.gid); // owner first: chown clears setuid/setgid
        await chmod(temp, entry.mode); // temp is a node pacha just made, never a symlink
        await this.applyXattrs(entry, temp, true);
      } else {
        bytes = await this.writeTempFile(entry, temp);
      }
      const existing = lstatOrUndefinedSync(target); // fresh: whatever is there now is kept
      if (existing) await this.keep(entry.path, target, existing, existing.isDirectory());
      renameSync(fsPath(temp), fsPath(target));
      // rename() between two links of one inode does nothing: the temp name would stay.
      if (entry.linkTo !== undefined) await unlink(fsPath(temp)).catch(() => undefined);
    } catch (error) {
      await unlink(fsPath(temp)).catch(() => undefined);
      throw error;
    }
    return bytes;
  }

  /**
   * A regular file, moved out of the stage: the staged copy is opened without following a
   * symlink, checked to be a regular file, given its owner then its mode on that handle
   * (chown clears setuid bits) and its extended attributes, and renamed over its target.
   * No byte is copied; the stage is pacha's 0700 directory, so nobody sees the file between
   * its chmod and its rename. Five to seven system calls (ownStaged), made synchronously:
   * through the promise API each also costs a thread-pool hand-off (strace -c -f: ~28 futex
   * calls per file). Files with attributes were readied before (prepareStaged).
   * When the stage is on another filesystem (EXDEV), this file and the rest are copied
   * beside their target instead, as writeTempFile does.
   */
  private async moveStaged(entry: PlannedEntry, target: string): Promise<number> {
    if (!entry.source) throw unsafe(this.plan, entry.path, 'no staged file');
    const source = fsPath(entry.source);
    let size = this.prepared.get(entry.path);
    if (size === undefined) {
      size = this.ownStaged(entry, entry.source);
      await this.applyXattrs(entry, entry.source, true);
    }
    // Fresh: whatever is there now is kept. In a directory this placement made, nothing can be
    // (it is 0700 and root's until phase 3): one system call less per file of a new tree.
    const existing = this.made.has(path.posix.dirname(entry.path)) ? undefined : lstatOrUndefinedSync(target);
    if (existing) await this.keep(entry.path, target, existing, existing.isDirectory());
    try {
      renameSync(source, fsPath(target));
      return size;
    } catch (error) {
      if (errnoCode(error) !== 'EXDEV') throw error;
    }
    this.acrossFilesystems = true;
    const temp = tempNameBeside(target);
    try {
      const bytes = await this.writeTempFile(entry, temp);
      await rename(fsPath(temp), fsPath(target));
      return bytes;
    } catch (error) {
      await unlink(fsPath(temp)).catch(() => undefined);
      throw error;
    }
  }

  /** Whether a regular file is moved out of the stage (moveStaged) rather than copied. */
  private movesStaged(entry: PlannedEntry): boolean {
    return entry.type === 'file' && entry.linkTo === undefined && this.options.consumeStage === true && !this.acrossFilesystems && !selinuxEnabled();
  }

  /**
   * The staged copy of a regular file given its owner, then its mode, on a handle opened
   * without following a symlink; its size. Refuses anything but a regular file. What is
   * already right is left (most files are root's, with git's 0644 or 0755): chown only for
   * another owner, chmod only for another mode, or after a chown when the mode has setuid or
   * setgid bits (chown clears them).
   */
  private ownStaged(entry: PlannedEntry, file: string): number {
    const fd = openSync(fsPath(file), NOFOLLOW_READ);
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw unsafe(this.plan, entry.path, 'the staged copy is not a regular file');
      const chown = stats.uid !== entry.uid || stats.gid !== entry.gid;
      if (chown) fchownSync(fd, entry.uid, entry.gid);
      if ((stats.mode & 0o7777) !== entry.mode || (chown && (entry.mode & 0o6000) !== 0)) fchmodSync(fd, entry.mode);
      return stats.size;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The staged copies of the files that carry extended attributes (ACLs, capabilities),
   * readied before any file is placed: owner and mode on the handle (chown clears
   * security.capability), then every file's attributes in one `setfattr --restore`. A
   * setfattr per file cost ~40 ms of a 50k-file rebuild's main thread each (the fork of a
   * large node process). If the batch fails, the files are done one by one to learn which
   * failed. Files that also lose an attribute are left to moveStaged.
   */
  async prepareStaged(entries: readonly PlannedEntry[]): Promise<void> {
    const batch: Array<{ entry: PlannedEntry; file: string; xattrs: Record<string, string> }> = [];
    for (const entry of entries) {
      if (!this.movesStaged(entry) || !entry.source || fsPath(entry.source) !== entry.source) continue;
      const work = xattrWork(entry, true);
      if (work.length === 0 || work.some(([, value]) => value === undefined)) continue;
      const file = entry.source;
      const size = await step(this.plan, entry.path, async () => this.ownStaged(entry, file));
      this.prepared.set(entry.path, size);
      batch.push({ entry, file, xattrs: Object.fromEntries(work) as Record<string, string> });
    }
    if ((await restoreXattrs(batch)) === undefined) return;
    for (const { entry, file } of batch) await this.applyXattrs(entry, file, true);
  }

  private async writeTempFile(entry: PlannedEntry, temp: string): Promise<number> {
    if (!entry.source) throw unsafe(this.plan, entry.path, 'no staged file');
    const source = await open(fsPath(entry.source), NOFOLLOW_READ);
    try {
      if (!(await source.stat()).isFile()) throw unsafe(this.plan, entry.path, 'the staged copy is not a regular file');
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
      const output = await open(fsPath(temp), flags, 0o600);
      let bytes = 0;
      try {
        const buffer = Buffer.allocUnsafe(CHUNK);
        for (;;) {
          const { bytesRead } = await source.read(buffer, 0, CHUNK, null);
          if (bytesRead === 0) break;
          let offset = 0;
          while (offset < bytesRead) offset += (await output.write(buffer, offset, bytesRead - offset)).bytesWritten;
          bytes += bytesRead;
        }
        await output.chown(entry.uid, entry.gid); // owner first: chown clears setuid/setgid
        await output.chmod(entry.mode);
      } finally {
        await output.close();
      }
      await this.applyXattrs(entry, temp, true);
      return bytes;
    } finally {
      await source.close();
    }
  }

  /** Owner and mode of an existing file or symlink, without following a symlink. */
  async updateEntry(entry: PlannedEntry): Promise<void> {
    const target = await this.safeTarget(entry.path);
    if (entry.type === 'symlink') {
      await lchown(fsPath(target), entry.uid, entry.gid);
      return this.applyXattrs(entry, target, false);
    }
    if (entry.type !== 'file') {
      // Opening a device node could act on the device: set owner and mode by name, after
      // checking that no symlink took its place.
      const stats = await lstatOrUndefined(target);
      if (!stats || stats.isSymbolicLink() || entryType(stats) !== entry.type) throw unsafe(this.plan, entry.path, 'it changed type since it was planned');
      await lchown(fsPath(target), entry.uid, entry.gid);
      await chmod(fsPath(target), entry.mode);
      return this.applyXattrs(entry, target, false);
    }
    const handle = await open(fsPath(target), NOFOLLOW_READ);
    try {
      if (!(await handle.stat()).isFile()) throw unsafe(this.plan, entry.path, 'it changed type since it was planned');
      await handle.chown(entry.uid, entry.gid);
      await handle.chmod(entry.mode);
    } finally {
      await handle.close();
    }
    await this.applyXattrs(entry, target, false);
  }

  /**
   * An entry's extended attributes, set last (chown and writes clear security.capability).
   * `fresh`: pacha just made it; otherwise attributes it should not have are removed. What
   * this filesystem or system refuses is reported (exit 4), never silent.
   */
  async applyXattrs(entry: PlannedEntry, file: string, fresh: boolean): Promise<void> {
    const work = xattrWork(entry, fresh);
    if (work.length === 0) return;
    if (fsPath(file) !== file) {
      this.result.failed.push({ path: entry.path, reason: 'extended attributes not restored: setfattr cannot be given a name that is not UTF-8' });
      return;
    }
    for (const [name, value] of work) {
      const why = await writeXattr(file, name, value);
      if (why && !(value === undefined && /No such attribute/i.test(why))) this.result.failed.push({ path: entry.path, reason: `extended attribute ${name} not ${value === undefined ? 'removed' : 'restored'}: ${why}` });
    }
  }

  progress(entry: PlannedEntry, bytes: number): void {
    this.options.onProgress?.({ repository: this.plan.repository, path: entry.path, action: entry.action, bytes });
  }
}

/**
 * The attributes to remove (value undefined) then set on an entry; `fresh`: pacha just made
 * it. Hard links other than the first of their group: none (it carries them). Pure.
 */
function xattrWork(entry: PlannedEntry, fresh: boolean): Array<[string, string | undefined]> {
  if (entry.linkTo !== undefined) return [];
  const wanted = entry.xattrs ?? {};
  const present = fresh ? {} : entry.current.kind === 'present' ? (entry.current.xattrs ?? {}) : {};
  const remove = Object.keys(present).filter((name) => !(name in wanted) && name !== 'security.selinux');
  // A new entry inherits its directory's default ACL, which it may not have had.
  if (fresh && entry.inheritsAcl) {
    if (!('system.posix_acl_access' in wanted)) remove.push('system.posix_acl_access');
    if (entry.type === 'directory' && !('system.posix_acl_default' in wanted)) remove.push('system.posix_acl_default');
  }
  return [...remove.map((n): [string, undefined] => [n, undefined]), ...Object.entries(wanted).filter(([n, v]) => present[n] !== v)];
}

/**
 * Keep what is at `target` under `<backupDir>/<host path>` and return where it went.
 * `moveAway`: the path must end up free (a rename; directories always move); otherwise the
 * entry stays in place and is hard-linked there, so that a rename over it stays atomic.
 * Across filesystems: a copy (modes, symlinks as symlinks, its owner), and only then the removal.
 */
export async function keepInBackups(options: {
  backupDir: string;
  hostRoot: string;
  entryPath: string;
  target: string;
  stats: Stats;
  moveAway: boolean;
}): Promise<string> {
  const { target, stats } = options;
  const backup = path.join(options.backupDir, entryLocation(options.hostRoot, options.entryPath));
  await mkdir(fsPath(path.dirname(backup)), { recursive: true, mode: 0o700 });
  const move = options.moveAway || stats.isDirectory();
  try {
    if (move) await rename(fsPath(target), fsPath(backup));
    else await link(fsPath(target), fsPath(backup));
  } catch (error) {
    const code = errnoCode(error);
    if (code !== 'EXDEV' && code !== 'EPERM') throw error;
    await copyForBackup(target, backup, stats);
    if (move) await rm(target, { recursive: true });
  }
  return backup;
}

async function copyForBackup(from: string, to: string, stats: Stats): Promise<void> {
  if (stats.isSymbolicLink()) {
    await symlink(await readlink(from), to);
  } else if (stats.isDirectory() || stats.isFile()) {
    await cp(from, to, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true, preserveTimestamps: true });
  } else {
    throw new OperationError('EBACKUP', `cannot keep a copy of the special file ${from} on another filesystem`, {
      hint: 'Move it aside by hand, then rebuild again.',
    });
  }
  await lchown(to, stats.uid, stats.gid);
}

const execFileAsync = promisify(execFile);

/** A FIFO or device node at `file`, mode 0600 until its own mode is set. */
async function makeNode(entry: PlannedEntry, file: string): Promise<void> {
  const kind = entry.type === 'fifo' ? ['p'] : [entry.type === 'char' ? 'c' : 'b', String(entry.device?.major ?? 0), String(entry.device?.minor ?? 0)];
  try {
    await execFileAsync('mknod', ['-m', '0600', '--', file, ...kind], { env: { ...minimalEnv(), LC_ALL: 'C' } });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    const reason = stderr.replace(/^mknod: /, '') || (error as Error).message;
    throw Object.assign(new Error(reason), { code: /not permitted/i.test(reason) ? 'EPERM' : 'EMKNOD' });
  }
}

let selinux: boolean | undefined;
/**
 * Whether SELinux is on: a file renamed out of the stage would keep the stage's label where
 * a file created beside its target gets its directory's, so there files are copied.
 */
function selinuxEnabled(): boolean {
  selinux ??= existsSync('/sys/fs/selinux/enforce');
  return selinux;
}

/** The path itself if it exists, else its nearest existing ancestor. */
async function nearestExisting(file: string): Promise<string> {
  for (let current = file; ; current = path.dirname(current)) {
    if ((await lstatOrUndefined(current)) || current === path.dirname(current)) return current;
  }
}

/** Run one step of placing an entry; a system error becomes an error that names the repository and the entry. */
async function step<T>(plan: Plan, entryPath: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isPachaError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new OperationError('EPLACE', `repository "${plan.repository}": could not place ${JSON.stringify(entryPath)} under ${plan.targetRoot}: ${reason}`, {
      hint: 'Entries placed before this one stay placed and displaced ones are in the backup dir; fix the cause and rebuild again (placed entries will be unchanged).',
      cause: error,
      details: { repository: plan.repository, path: entryPath, errno: errnoCode(error) },
    });
  }
}

const depth = (entryPath: string): number => (entryPath === '.' ? 0 : entryPath.split('/').length);

/**
 * Place one repository's plan under its target root and report what was done. Refuses
 * (EUNSAFE, before writing anything) a plan with refusals or a symlinked target root.
 * Placing a fresh plan of an already placed repository writes nothing.
 */
export async function placeRepository(plan: Plan, options: PlaceOptions): Promise<PlaceResult> {
  const started = Date.now();
  const first = plan.refused[0];
  if (first) throw unsafe(plan, first.path, first.reason);
  const placement = new Placement(plan, options);
  const { result } = placement;
  await step(plan, '.', () => placement.prepareRoot());
  await step(plan, '.', () => placement.removeLeftovers());
  await placement.prepareStaged(plan.entries.filter((e) => e.action === 'create' || e.action === 'replace'));

  const changes = (e: PlannedEntry): boolean => e.action === 'create' || e.action === 'replace';
  const directories = plan.entries.filter((e) => e.type === 'directory');
  // 1. Directories that must exist, parents first (metadata is sorted, a parent sorts before its children).
  for (const entry of directories.filter(changes)) await step(plan, entry.path, () => placement.createDirectory(entry));

  // 2. Files and symlinks.
  const others = plan.entries.filter((e) => e.type !== 'directory');
  await mapLimit(others, options.concurrency ?? 8, async (entry) => {
    let bytes = 0;
    if (entry.action === 'skip') result.skipped.push(entry.path);
    else if (entry.linkTo !== undefined) return; // after every file (below)
    else if (entry.action === 'unchanged') result.unchanged++;
    else if (entry.action === 'update-metadata') {
      await step(plan, entry.path, () => placement.updateEntry(entry));
      result.metadataUpdated++;
    } else if (entry.type === 'char' || entry.type === 'block') {
      // A device node this system will not make (no CAP_MKNOD in a container): reported, exit 4.
      try {
        await step(plan, entry.path, () => placement.writeEntry(entry));
        result.written++;
      } catch (error) {
        if (!(isPachaError(error) && error.details?.errno === 'EPERM')) throw error;
        const why = error.cause instanceof Error ? error.cause.message : error.message;
        result.failed.push({ path: entry.path, reason: `cannot make a ${entry.type === 'char' ? 'character' : 'block'} device here: ${why}` });
      }
    } else {
      bytes = await step(plan, entry.path, () => placement.writeEntry(entry));
      result.written++;
      result.bytes += bytes;
    }
    placement.progress(entry, bytes);
  });

  // 2b. Hard links, once the files they link to are in place.
  for (const entry of others.filter((e) => e.linkTo !== undefined)) {
    if (entry.action === 'unchanged') result.unchanged++;
    else {
      await step(plan, entry.path, () => placement.writeEntry(entry));
      result.written++;
    }
    placement.progress(entry, 0);
  }

  // 3. Directories' owners and modes, deepest first.
  const byDepth = [...directories].sort((a, b) => depth(b.path) - depth(a.path));
  for (const entry of byDepth) {
    if (entry.action === 'unchanged') result.unchanged++;
    else {
      await step(plan, entry.path, () => placement.finishDirectory(entry));
      if (entry.action === 'update-metadata') result.metadataUpdated++;
      else result.written++;
    }
    placement.progress(entry, 0);
  }
  result.skipped.sort();
  result.durationMs = Date.now() - started;
  return result;
}
