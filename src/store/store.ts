// The local versioned store: one git dir per tracked path under <state>/repos/, whose work
// tree is the tracked path itself. Nothing is ever written inside a tracked path.
// What only a commit or a push uses (the capture, the commit, the daemon's live commit, the
// writer lock, the one-round-trip push …) is imported at its first use (lazyModule): `pacha
// status` reads the store and loads none of it (issue 14, target 5: status start-up).
import { statSync } from 'node:fs';
import { lstat, mkdir, readFile, realpath, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Accounts } from '../accounts.js';
import { MasterError, MasterUnreachableError, OperationError, UsageError, errnoCode } from '../errors.js';
import { ensurePrivateDir } from '../fs/atomic.js';
import type { Master } from '../master/master.js';
import type { CommitResult } from './commit.js';
import { GIT_IDENTITY, gitAt, neutralizeRepository, revParse, type Git } from './git.js';
import { checkPattern, effectivePatterns, ignoreMatcher, literalPattern, NO_IGNORE, type IgnoreMatcher, type IgnoreSettings } from './ignore.js';
import type { Metadata } from './metadata.js';
import { chooseName, readRegistry, writeRegistry, type TrackedEntry } from './registry.js';
import { trackableProblem, untrackableReason } from './trackable.js';
import { classifyPushFailure, divergedRef, worthRetryingAtOnce } from './push.js';
import type { CommitOrigin, HostFacts } from './provenance.js';
import type { LiveSnapshot, WrittenCommit } from './live.js';
import { BRANCH, readRef, updateRef } from './refs.js';
import type { XattrReader } from './xattr-reader.js';
import { countLooseCommits, readCommitSummary, type CommitSummary } from './objects.js';

export type { CommitResult } from './commit.js';

/**
 * A module imported at the first call, the same promise after: what only a commit or a push
 * uses stays out of `pacha status`, and the daemon's hot path (a live commit per edit, a lock
 * and a push each) pays no import lookup per edit.
 */
function lazyModule<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}

const liveModule = lazyModule(() => import('./live.js'));
const xattrReaderModule = lazyModule(() => import('./xattr-reader.js'));
const writerLockModule = lazyModule(() => import('./writer-lock.js'));
const fastPushModule = lazyModule(() => import('./fast-push.js'));

export interface TrackedPath extends TrackedEntry {
  gitDir: string;
}

export type PushResult =
  | { status: 'pushed'; sha: string; commits: number }
  | { status: 'up-to-date' }
  | { status: 'diverged'; ref: string };

export interface Divergence {
  /** The ref on the master holding this host's history. */
  ref: string;
  /** When it was last seen (ISO). */
  time: string;
}

/** The last commit known to be on the master (the primary, with several). */
export const PUSHED_REF = 'refs/pacha/pushed';

/** The last commit another master acknowledged (pacha.host as a list; `id`: masterId of its entry). */
export function pushedRefOf(id: string | undefined): string {
  return id === undefined ? PUSHED_REF : `refs/pacha/pushed-to/${id}`;
}

/** Who asks for a commit: the part of pacha, and the person for a CLI command. */
export interface CommitBy {
  origin: CommitOrigin;
  user?: string | undefined;
}

export class Store {
  private accounts: Accounts | undefined;
  private facts: Promise<HostFacts> | undefined;
  private readonly ensured = new Set<string>();
  /** Per location: the matcher of the last capture (the watcher asks it between captures). */
  private readonly matchers = new Map<string, IgnoreMatcher>();
  /** Per location: the last commit's snapshot, when `keepSnapshots` (the daemon: live.ts). */
  private readonly live = new Map<string, LiveSnapshot>();
  /** The daemon's getfattr, started from a kept shell (xattr-reader.ts). */
  private xattrReader: XattrReader | undefined;
  /** Per git dir: the last live commit's objects, the pack of its push when the master holds its parent (pack-file.ts). */
  private readonly written = new Map<string, WrittenCommit>();
  private ignoreGeneration = 0;
  /** Keep each path's last snapshot in memory, so a commit of a few changed paths reads only those (the daemon). */
  keepSnapshots = false;
  /** How the last commit read the path: only the changed paths, or everything (benchmarks, tests). */
  lastCommitRead: 'changed' | 'full' | undefined;
  /** Why the last commit given changed paths read everything. */
  lastFullReason: string | undefined;

  private constructor(
    readonly stateDir: string,
    readonly host: string,
    private ignoreSettings: IgnoreSettings,
  ) {}

  /** `ignore`: pacha.ignore and pacha.ignore.defaults (none when absent). */
  static async open(stateDir: string, host: string, ignore: IgnoreSettings = NO_IGNORE): Promise<Store> {
    await ensurePrivateDir(stateDir);
    await ensurePrivateDir(path.join(stateDir, 'repos'));
    return new Store(stateDir, host, ignore);
  }

  /** New ignore settings (SIGHUP): the next capture uses them. */
  setIgnore(settings: IgnoreSettings): void {
    this.ignoreSettings = settings;
    this.matchers.clear();
    this.ignoreGeneration++;
  }

  /** Every pattern that applies to a tracked path: defaults, pacha.ignore, its own. */
  ignorePatterns(tracked: TrackedEntry): string[] {
    return tracked.single ? [] : effectivePatterns(this.ignoreSettings, tracked.ignore ?? []);
  }

  /** What the capture leaves out of a tracked path. */
  ignoreMatcher(tracked: TrackedEntry): IgnoreMatcher {
    const matcher = ignoreMatcher(this.ignorePatterns(tracked));
    this.matchers.set(tracked.location, matcher);
    return matcher;
  }

  /** Whether an entry (relative to the tracked path) is ignored, by the rules of the last capture. */
  isIgnored(tracked: TrackedEntry, rel: string, isDirectory: boolean): boolean {
    return (this.matchers.get(tracked.location) ?? this.ignoreMatcher(tracked))(rel, isDirectory);
  }

  get reposDir(): string {
    return path.join(this.stateDir, 'repos');
  }

  private withGitDir(entry: TrackedEntry): TrackedPath {
    return { ...entry, gitDir: path.join(this.reposDir, `${entry.name}.git`) };
  }

  async list(): Promise<TrackedPath[]> {
    return (await readRegistry(this.stateDir)).paths.map((entry) => this.withGitDir(entry));
  }

  /** A tracked path by its location, a path inside it, or its repository name. */
  async find(pathOrName: string): Promise<TrackedPath | undefined> {
    const list = await this.list();
    const absolute = path.resolve(pathOrName);
    return (
      list.find((t) => t.location === absolute) ??
      list.find((t) => !t.single && absolute.startsWith(`${t.location}/`)) ??
      list.find((t) => t.name === pathOrName)
    );
  }

  workTree(tracked: TrackedEntry): string {
    return tracked.single ? path.dirname(tracked.location) : tracked.location;
  }

  git(tracked: TrackedPath, extraEnv: Record<string, string> = {}): Git {
    return gitAt({
      gitDir: tracked.gitDir,
      workTree: this.workTree(tracked),
      env: {
        ...GIT_IDENTITY,
        GIT_AUTHOR_EMAIL: `pacha@${this.host}`,
        GIT_COMMITTER_EMAIL: `pacha@${this.host}`,
        ...extraEnv,
      },
    });
  }

  /**
   * Start tracking a directory (or one file with `single`). Records nothing if the path is
   * unusable. `ignore`: patterns of this path (kept in the registry); for a path already
   * tracked, the new ones are added to its list (`added`).
   */
  async track(
    location: string,
    options: { single?: boolean; ignore?: readonly string[] } = {},
  ): Promise<{ tracked: TrackedPath; created: boolean; added: string[] }> {
    const single = options.single ?? false;
    const absolute = path.resolve(location);
    const ignore = [...(options.ignore ?? [])];
    for (const pattern of ignore) {
      const problem = checkPattern(pattern);
      if (problem) throw new UsageError(`ignore pattern ${JSON.stringify(pattern)} ${problem}`, { hint: 'patterns are gitignore-style: *.swp, /anchored, dir/, !negated' });
    }
    if (single && ignore.length > 0) throw new UsageError('--ignore applies to a directory; --single tracks one file', { hint: 'drop one of them' });
    await checkTrackable(absolute, single, this.stateDir);
    const registry = await readRegistry(this.stateDir);
    const existing = registry.paths.find((p) => p.location === absolute);
    if (existing) {
      const added = ignore.filter((p) => !(existing.ignore ?? []).includes(p));
      if (added.length > 0) {
        existing.ignore = [...(existing.ignore ?? []), ...added];
        await writeRegistry(this.stateDir, registry);
      }
      return { tracked: this.withGitDir(existing), created: false, added };
    }
    const name = chooseName(absolute, new Set(registry.paths.map((p) => p.name)));
    const entry: TrackedEntry = { location: absolute, name, single, ...(ignore.length > 0 ? { ignore } : {}) };
    const tracked = this.withGitDir(entry);
    await this.initGitDir(tracked);
    registry.paths.push(entry);
    await writeRegistry(this.stateDir, registry);
    return { tracked, created: true, added: ignore };
  }

  /**
   * Stop tracking one entry inside a tracked directory: an anchored ignore pattern for it
   * joins the path's list, so the next commit leaves it out. Its history stays.
   */
  async forget(target: string): Promise<{ tracked: TrackedPath; pattern: string; added: boolean }> {
    const absolute = path.resolve(target);
    const tracked = await this.find(absolute);
    if (!tracked || tracked.location === absolute || tracked.single) {
      throw new UsageError(`${absolute} is not inside a tracked directory`, {
        hint: tracked ? `to stop tracking ${tracked.location} itself, use \`pacha unwatch ${tracked.location}\`` : '`pacha status` lists the tracked paths',
      });
    }
    const pattern = literalPattern(path.relative(tracked.location, absolute).split(path.sep).join('/'));
    const registry = await readRegistry(this.stateDir);
    const entry = registry.paths.find((p) => p.location === tracked.location)!;
    const added = !(entry.ignore ?? []).includes(pattern);
    if (added) {
      entry.ignore = [...(entry.ignore ?? []), pattern];
      await writeRegistry(this.stateDir, registry);
    }
    return { tracked: this.withGitDir(entry), pattern, added };
  }

  /** Register a git dir cloned from the master (rebuild): same history, new work tree. */
  /** `head`: the branch's commit when the caller knows it (a rebuild read it while staging): one git process fewer. */
  async adopt(entry: TrackedEntry, clonedGitDir: string, head?: string): Promise<TrackedPath> {
    const registry = await readRegistry(this.stateDir);
    const tracked = this.withGitDir(entry);
    const existing = registry.paths.find((p) => p.location === entry.location || p.name === entry.name);
    if (existing) {
      if (existing.location !== entry.location || existing.name !== entry.name) {
        throw new OperationError('ECONFLICT', `${entry.location} (${entry.name}) conflicts with tracked ${existing.location} (${existing.name})`, {
          hint: 'run `pacha unwatch` on the old path first',
        });
      }
      await rm(tracked.gitDir, { recursive: true, force: true });
    }
    await rename(clonedGitDir, tracked.gitDir);
    await this.configureGitDir(tracked);
    // The master's head is, by definition, pushed.
    const pushed = head ?? (await revParse(this.git(tracked), BRANCH));
    if (pushed) await this.git(tracked).raw(['update-ref', PUSHED_REF, pushed]);
    if (!existing) {
      registry.paths.push(entry);
      await writeRegistry(this.stateDir, registry);
    }
    return tracked;
  }

  /** Stop tracking. `discard`: the path was never committed (a refused first capture): remove its git dir. */
  async untrack(location: string, options: { discard?: boolean } = {}): Promise<TrackedPath> {
    const registry = await readRegistry(this.stateDir);
    const tracked = await this.find(location);
    if (!tracked || (tracked.location !== path.resolve(location) && tracked.name !== location)) {
      throw new UsageError(`${location} is not tracked`, { hint: '`pacha status` lists the tracked paths' });
    }
    registry.paths = registry.paths.filter((p) => p.location !== tracked.location);
    await writeRegistry(this.stateDir, registry);
    if (options.discard && !(await revParse(this.git(tracked), BRANCH))) {
      await rm(tracked.gitDir, { recursive: true, force: true });
      return tracked;
    }
    // The history stays on the master; locally the git dir is kept aside, not destroyed.
    const aside = path.join(this.stateDir, 'untracked', `${tracked.name}.${Date.now()}.git`);
    await mkdir(path.dirname(aside), { recursive: true, mode: 0o700 });
    await rename(tracked.gitDir, aside).catch(() => undefined);
    return tracked;
  }

  private async initGitDir(tracked: TrackedPath): Promise<void> {
    await mkdir(tracked.gitDir, { recursive: true, mode: 0o700 });
    await gitAt({ gitDir: tracked.gitDir }).raw(['init', '-q', '--bare', '-b', 'main']);
    await this.configureGitDir(tracked);
  }

  private async configureGitDir(tracked: TrackedPath): Promise<void> {
    await neutralizeRepository(tracked.gitDir, [
      ['core.bare', 'false'],
      ['core.worktree', this.workTree(tracked)],
      ['core.fileMode', 'true'],
      ['core.symlinks', 'true'],
      ['commit.gpgSign', 'false'],
      ['gc.autoDetach', 'false'],
    ]);
  }

  private async accountsOnce(): Promise<Accounts> {
    this.accounts ??= await (await import('../accounts.js')).loadAccounts('/');
    return this.accounts;
  }

  /** The instance and boot this process runs in (read once: neither changes while it runs). */
  hostFacts(): Promise<HostFacts> {
    this.facts ??= import('./provenance.js').then(({ readHostFacts }) => readHostFacts(this.stateDir));
    return this.facts;
  }

  /**
   * Run `fn` as the only writer of this tracked path's git dir among pacha's processes
   * (writer-lock.ts), holding both its locks: clearing stale git locks does.
   */
  writing<T>(tracked: TrackedEntry, fn: () => Promise<T>): Promise<T> {
    return this.locked(tracked, 'commit', () => this.locked(tracked, 'push', fn));
  }

  /**
   * Two locks per path, so that a push waiting on a hung master never holds up commits:
   * `commit` guards the index and the branch, `push` keeps pushes of one path in order (two
   * at once could make the older one look like a divergence). Git's own locks of the two
   * never overlap (refs/heads/main and the index, against refs/pacha/pushed and the config).
   */
  private locked<T>(tracked: TrackedEntry, kind: 'commit' | 'push' | `push.${string}`, fn: () => Promise<T>): Promise<T> {
    const file = path.join(this.stateDir, 'locks', `${tracked.name}.${kind}.lock`);
    return writerLockModule().then(({ withWriterLock }) => withWriterLock(file, fn, this.lockOptions));
  }

  /** Told when a writer has to wait for another process (the CLI says so). */
  lockOptions: { onWait?: (holderPid: number) => void } = {};

  /**
   * The metadata of a tracked path as it is now, ignore rules applied. The path's own
   * patterns are read from the registry each time: `pacha forget` or `watch --ignore` in
   * another process (while the daemon runs) take effect at the next commit.
   */
  async capture(tracked: TrackedPath, stamps?: Map<string, string>): Promise<Metadata> {
    const fresh = await this.freshEntry(tracked);
    this.ignoreMatcher(fresh); // the watcher's, until the next capture
    const { captureMetadata } = await import('./capture.js');
    return captureMetadata({
      location: tracked.location,
      single: tracked.single,
      host: this.host,
      accounts: await this.accountsOnce(),
      // The capture's own matcher, garbage once it ends: the `ignore` package remembers every
      // path it was asked about (at 50k files, ~5 MiB the daemon would keep until the next commit).
      ignored: ignoreMatcher(this.ignorePatterns(fresh)),
      ...(fresh.ignore ? { ignore: fresh.ignore } : {}),
      ...(stamps ? { stamps } : {}),
    });
  }

  private async freshEntry(tracked: TrackedPath): Promise<TrackedEntry> {
    return (await readRegistry(this.stateDir)).paths.find((p) => p.location === tracked.location) ?? tracked;
  }

  /**
   * Commit the tracked path as it is now; null when nothing changed since the last commit.
   * `changed`: the only paths (relative) that can have changed since the last commit (the
   * watcher's events): with `keepSnapshots`, only those are read (live.ts).
   */
  commit(tracked: TrackedPath, options: { message?: string; by?: CommitBy; changed?: Iterable<string> } = {}): Promise<CommitResult | null> {
    return this.locked(tracked, 'commit', () => this.commitUnlocked(tracked, options));
  }

  /** The paths that differ (by lstat) from the kept snapshot; undefined when a full commit is needed. */
  private async differing(tracked: TrackedPath, ignoreKey: string): Promise<string[] | undefined> {
    const { differingPaths, FULL_RECONCILE_MS, liveIsCurrent } = await liveModule();
    const live = this.live.get(tracked.location);
    if (!live || Date.now() - live.confirmedAt > FULL_RECONCILE_MS || !(await liveIsCurrent(live, tracked.gitDir, ignoreKey))) return undefined;
    let found: Awaited<ReturnType<typeof differingPaths>>;
    try {
      found = await differingPaths(live, await this.accountsOnce(), this.ignoreMatcher(await this.freshEntry(tracked)));
    } catch (error) {
      // The walk failed (an entry pacha refuses, an unreadable one), so this commit fails; but
      // the daemon let go of the paths reported since the last commit for this reconcile, and
      // a snapshot kept would take the next few reported paths for all there is: read everything next.
      this.live.delete(tracked.location);
      throw error;
    }
    return found === 'too-many' ? undefined : found;
  }

  /** The commit of a few changed paths on the kept snapshot; undefined when a full commit must do it. */
  private async commitChanged(tracked: TrackedPath, changed: Iterable<string>, by: CommitBy | undefined, ignoreKey: string): Promise<CommitResult | null | undefined> {
    const [{ commitLive, liveIsCurrent }, { XattrReader }] = await Promise.all([liveModule(), xattrReaderModule()]);
    const live = this.live.get(tracked.location);
    if (!live || !(await liveIsCurrent(live, tracked.gitDir, ignoreKey))) return undefined;
    try {
      const result = await commitLive({
        live,
        gitDir: tracked.gitDir,
        events: changed,
        accounts: await this.accountsOnce(),
        ignored: this.ignoreMatcher(await this.freshEntry(tracked)),
        provenance: { ...(await this.hostFacts()), ...by },
        email: `pacha@${this.host}`,
        readXattrs: (paths) => (this.xattrReader ??= new XattrReader()).read(paths),
      });
      if (result && 'full' in result) {
        this.live.delete(tracked.location);
        this.lastFullReason = result.full;
        return undefined;
      }
      this.lastCommitRead = 'changed';
      if (!result) return result;
      const { written, ...committed } = result;
      if (written) this.written.set(tracked.gitDir, written);
      return committed;
    } catch (error) {
      this.live.delete(tracked.location);
      throw error;
    }
  }

  private async commitUnlocked(tracked: TrackedPath, options: { message?: string; by?: CommitBy; changed?: Iterable<string> }): Promise<CommitResult | null> {
    // A registry written before these checks existed may hold such a path: never commit it.
    const problem = trackableProblem(tracked.location, this.stateDir);
    if (problem) {
      throw new UsageError(`${tracked.location} cannot be tracked: ${problem}; nothing was committed (stop tracking it with \`pacha unwatch ${tracked.location}\`)`, {
        hint: 'track the directories you mean instead',
      });
    }
    const keep = this.keepSnapshots && !tracked.single;
    const ignoreKey = keep ? `${this.ignoreGeneration}:${JSON.stringify((await this.freshEntry(tracked)).ignore ?? [])}` : '';
    this.lastFullReason = undefined;
    this.written.delete(tracked.gitDir);
    if (keep && options.message === undefined && this.live.has(tracked.location)) {
      // A reconcile (no list of changed paths): what differs by lstat from the kept snapshot.
      const changed = options.changed ?? (await this.differing(tracked, ignoreKey));
      if (changed !== undefined) {
        const result = await this.commitChanged(tracked, changed, options.by, ignoreKey);
        if (result !== undefined) return result;
      }
    }
    this.lastCommitRead = 'full';
    const { indexFileStamp, liveIsCurrent, seedLive } = await liveModule();
    const before = keep ? this.live.get(tracked.location) : undefined;
    const current = before !== undefined && (await liveIsCurrent(before, tracked.gitDir, ignoreKey));
    this.live.delete(tracked.location);
    const stamps = keep ? new Map<string, string>() : undefined;
    const metadata = await this.capture(tracked, stamps).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT') {
        throw new OperationError('EGONE', `tracked path ${tracked.location} no longer exists`, {
          hint: `restore it with \`pacha rebuild --directory ${tracked.name}\`, or stop tracking it with \`pacha unwatch ${tracked.location}\``,
          cause: error,
        });
      }
      throw error;
    });
    const provenance = { ...(await this.hostFacts()), ...options.by };
    const seen: { tree?: string; metadata?: Metadata } = {};
    const git = this.git(tracked);
    const { commitSnapshot } = await import('./commit.js');
    const result = await commitSnapshot({ git, gitDir: tracked.gitDir, metadata, provenance, seen, ...(options.message === undefined ? {} : { message: options.message }) });
    if (keep && seen.tree && seen.metadata) {
      if (result === null && current) {
        // Nothing changed and the kept snapshot was the branch's: it still is (fresher stamps).
        before.entries.replaceStamps(stamps!);
        before.indexStamp = indexFileStamp(tracked.gitDir);
        before.confirmedAt = Date.now();
        this.live.set(tracked.location, before);
      } else {
        const head = readRef(tracked.gitDir, BRANCH);
        if (head) this.live.set(tracked.location, await seedLive({ git, gitDir: tracked.gitDir, metadata: seen.metadata, stamps: stamps!, head, tree: seen.tree, ignoreKey }));
      }
    }
    return result;
  }

  /**
   * Encode the kept snapshots' metadata blocks now (SnapshotEntries.layBlocks), after a full
   * commit, its garbage collected.
   */
  settleSnapshots(): void {
    for (const live of this.live.values()) live.entries.layBlocks();
  }

  /** The last live commit of this path and the objects it wrote, while it is the last commit (tests, benchmarks). */
  lastLiveCommit(tracked: TrackedPath): WrittenCommit | undefined {
    return this.written.get(tracked.gitDir);
  }

  async head(tracked: TrackedPath): Promise<string | undefined> {
    return revParse(this.git(tracked), BRANCH);
  }

  /** The last commit the master acknowledged (a push that went through), read without a git process. */
  pushedHead(tracked: TrackedPath, masterId?: string): string | undefined {
    return readRef(tracked.gitDir, pushedRefOf(masterId));
  }

  /**
   * Commits not yet on the master (`masterId`: another master of the list than the primary),
   * counted without a git process while they are loose.
   */
  async unpushed(tracked: TrackedPath, masterId?: string): Promise<number> {
    const head = readRef(tracked.gitDir, BRANCH);
    if (!head) return 0;
    const pushed = readRef(tracked.gitDir, pushedRefOf(masterId));
    if (pushed === head) return 0;
    const counted = await countLooseCommits(tracked.gitDir, head, pushed);
    if (counted !== undefined) return counted;
    const range = pushed ? `${pushed}..${head}` : head;
    return Number((await this.git(tracked).raw(['rev-list', '--count', range])).trim());
  }

  /** The first commit of this history the master lacks: the first after the last pushed one, or the root. */
  private async forkPoint(tracked: TrackedPath, head: string, masterId?: string): Promise<string> {
    const git = this.git(tracked);
    const pushed = await revParse(git, pushedRefOf(masterId));
    const list = (await git.raw(['rev-list', '--reverse', '--first-parent', pushed ? `${pushed}..${head}` : head])).trim().split('\n');
    return list[0] || head;
  }

  /**
   * Divergence is recorded in the path's git dir (its config), whoever saw it: the daemon,
   * `pacha push` from cron, boot. `pacha status` reads it from there; a push that goes
   * through clears it, and so does `pacha reconcile`.
   */
  async recordDivergence(tracked: TrackedPath, divergence: Divergence | undefined): Promise<void> {
    const git = gitAt({ gitDir: tracked.gitDir });
    if (divergence) {
      await git.raw(['config', 'pacha.diverged.ref', divergence.ref]);
      await git.raw(['config', 'pacha.diverged.time', divergence.time]);
      this.notDiverged.delete(tracked.gitDir);
    } else if (!this.notDiverged.has(tracked.gitDir) || this.notDiverged.get(tracked.gitDir) !== configStamp(tracked.gitDir)) {
      if (await this.divergence(tracked)) await git.raw(['config', '--remove-section', 'pacha.diverged']).catch(() => undefined);
      this.notDiverged.set(tracked.gitDir, configStamp(tracked.gitDir));
    }
  }

  /** Git dirs whose config (as stamped) holds no divergence: a push that goes through need not ask git again. */
  private readonly notDiverged = new Map<string, string | undefined>();

  /**
   * The last commit's sha, time and subject (`pacha status`): the branch read from its ref
   * file and the commit from its loose object, without a git process; else from git.
   */
  async lastCommit(tracked: TrackedPath): Promise<CommitSummary | undefined> {
    const ref = readRef(tracked.gitDir, BRANCH);
    const read = ref ? await readCommitSummary(tracked.gitDir, ref) : undefined;
    if (read) return read;
    const head = await this.head(tracked);
    if (!head) return undefined;
    const [sha, time, subject] = (await this.git(tracked).raw(['log', '-1', '--format=%H%x00%cI%x00%s', head])).trim().split('\0');
    return { sha: sha!, time: time!, subject: subject ?? '' };
  }

  /** The divergence last seen for this path (and not resolved since), if any. */
  async divergence(tracked: TrackedPath): Promise<Divergence | undefined> {
    // A config that never names a divergence (nor includes another file) holds none: no git process.
    const text = await readFile(path.join(tracked.gitDir, 'config'), 'utf8').catch(() => undefined);
    if (text !== undefined && !/diverged|include/i.test(text)) return undefined;
    const git = gitAt({ gitDir: tracked.gitDir });
    const read = (key: string) => git.raw(['config', '--get', key]).then((v) => v.trim(), () => '');
    const ref = await read('pacha.diverged.ref');
    return ref ? { ref, time: await read('pacha.diverged.time') } : undefined;
  }

  /**
   * Push main to the master. Never forces: a rejected push saves the history on a side ref.
   * `masterId`: another master of the list than the primary, with its own acknowledged ref
   * and its own lock (a hung master never holds up the pushes to the others).
   */
  push(tracked: TrackedPath, master: Master, masterId?: string): Promise<PushResult> {
    return this.locked(tracked, masterId === undefined ? 'push' : `push.${masterId}`, () => this.pushUnlocked(tracked, master, masterId));
  }

  private async pushUnlocked(tracked: TrackedPath, master: Master, masterId: string | undefined): Promise<PushResult> {
    const git = this.git(tracked, master.gitEnv());
    const head = readRef(tracked.gitDir, BRANCH);
    if (!head) return { status: 'up-to-date' };
    const pushed = readRef(tracked.gitDir, pushedRefOf(masterId));
    if (pushed === head) return { status: 'up-to-date' };
    const pending = await this.unpushed(tracked, masterId);
    if (pending === 0) return { status: 'up-to-date' };
    const ensured = `${masterId ?? ''}/${tracked.name}`;
    if (!this.ensured.has(ensured)) {
      await master.ensureRepository(this.host, tracked.name);
      this.ensured.add(ensured);
    }
    // What the master acknowledged, remembered without a git process (refs.ts; no reflog, as git keeps none for it).
    const acknowledged = async (): Promise<PushResult> => {
      updateRef(tracked.gitDir, pushedRefOf(masterId), head, pushed);
      if (masterId === undefined) await this.recordDivergence(tracked, undefined);
      return { status: 'pushed', sha: head, commits: pending };
    };
    // The daemon's kept session takes one edit's commits in one round trip where it can; else git push.
    const written = this.written.get(tracked.gitDir);
    const objects = written && written.parent === pushed && written.sha === head ? written.objects : undefined;
    const { pushInOneRoundTrip } = await fastPushModule();
    if (pushed && (await pushInOneRoundTrip(master, this.host, tracked.name, tracked.gitDir, pushed, head, objects))) return acknowledged();
    const url = master.repositoryUrl(this.host, tracked.name);
    const push = ['push', '--porcelain', '--quiet', ...(await master.pushOptions()), url];
    try {
      await pushOnce(() => git.raw([...push, `${BRANCH}:${BRANCH}`]));
    } catch (error) {
      const failure = classifyPushFailure(String((error as Error).message));
      if (failure.kind === 'non-fast-forward') {
        const ref = divergedRef(this.host, await this.forkPoint(tracked, head, masterId));
        await git.raw([...push, `${BRANCH}:${ref}`]);
        if (masterId === undefined) await this.recordDivergence(tracked, { ref, time: new Date().toISOString() });
        return { status: 'diverged', ref };
      }
      const where = `${master.label} (${tracked.name})`;
      const message = `push of ${tracked.location} to ${where} failed: ${failure.summary}`;
      if (failure.kind === 'unreachable' || failure.kind === 'dropped' || failure.kind === 'host-key' || failure.kind === 'key') {
        throw new MasterUnreachableError(message, {
          code: ({ 'host-key': 'EHOSTKEY', key: 'EPUSHKEY', unreachable: 'EUNREACHABLE', dropped: 'EUNREACHABLE' } as const)[failure.kind],
          hint: `the commits are safe in the local store and will be pushed on the next try${failure.kind === 'key' ? ' (make the key file 0600, owned by the user running pacha)' : ''}`,
          cause: error,
        });
      }
      throw new MasterError(message, {
        code: failure.kind === 'refused' ? 'EGATE' : 'EPUSH',
        hint:
          failure.kind === 'refused'
            ? `the commits are safe in the local store; the master's gate serves only the host this key is enrolled for (this host is ${this.host})`
            : 'the commits are safe in the local store; check the repository on the master',
        cause: error,
      });
    }
    return acknowledged();
  }
}

/**
 * A push, tried a second time at once when the connection died under the first (a kept
 * OpenSSH connection to a master whose sshd was restarted: its control socket still
 * answered, its session did not). The second try dials anew. A push is idempotent.
 */
async function pushOnce<T>(push: () => Promise<T>): Promise<T> {
  try {
    return await push();
  } catch (error) {
    if (!worthRetryingAtOnce(String((error as Error).message))) throw error;
    return push();
  }
}

function configStamp(gitDir: string): string | undefined {
  const stats = statSync(path.join(gitDir, 'config'), { throwIfNoEntry: false });
  return stats ? `${stats.ino}:${stats.size}:${stats.mtimeMs}` : undefined;
}

async function checkTrackable(location: string, single: boolean, stateDir: string): Promise<void> {
  const lexical = trackableProblem(location, stateDir);
  if (lexical) throw new UsageError(`refusing to track ${location}: ${lexical}`, { hint: 'track the directories you mean, e.g. /etc/nginx, /opt/foo' });
  let stats;
  try {
    stats = await lstat(location);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new UsageError(`${location} does not exist; nothing was recorded`, { hint: 'check the path and try again' });
    }
    throw error;
  }
  // The same checks on what the path really is (/srv/pacha -> /var/lib/pacha).
  const [real, realState] = await Promise.all([realpath(location), realpath(stateDir).catch(() => stateDir)]);
  const resolved = trackableProblem(real, realState);
  if (resolved) throw new UsageError(`refusing to track ${location} (${real}): ${resolved}`, { hint: 'track the directories you mean, e.g. /etc/nginx, /opt/foo' });
  if (single && !stats.isFile()) {
    throw new UsageError(`${location} is not a regular file; --single tracks one file`, { hint: 'drop --single to track a directory' });
  }
  const named = single ? untrackableReason(path.basename(location), true) : undefined;
  if (named) {
    throw new UsageError(`refusing to track ${location}: ${named}; nothing was recorded`, {
      hint: `rename the file, or track a directory above ${path.dirname(location)} (below it, the name is not at the top)`,
    });
  }
  if (!single && !stats.isDirectory()) {
    throw new UsageError(`${location} is not a directory`, { hint: `to track one file, use \`pacha watch --single ${location}\`` });
  }
}
