// The local versioned store: one git dir per tracked path under <state>/repos/, whose work
// tree is the tracked path itself. Nothing is ever written inside a tracked path.
import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { loadAccounts, type Accounts } from '../accounts.js';
import { MasterError, MasterUnreachableError, OperationError, UsageError, errnoCode } from '../errors.js';
import { ensurePrivateDir } from '../fs/atomic.js';
import type { Master } from '../master/master.js';
import { captureMetadata } from './capture.js';
import { BRANCH, commitSnapshot, type CommitResult } from './commit.js';
import { GIT_IDENTITY, gitAt, revParse, type Git } from './git.js';
import { chooseName, readRegistry, writeRegistry, type TrackedEntry } from './registry.js';
import { classifyPushFailure, divergedRef } from './push.js';
import { readHostFacts, type CommitOrigin, type HostFacts } from './provenance.js';

export type { CommitResult } from './commit.js';

export interface TrackedPath extends TrackedEntry {
  gitDir: string;
}

export type PushResult =
  | { status: 'pushed'; sha: string; commits: number }
  | { status: 'up-to-date' }
  | { status: 'diverged'; ref: string };

/** The last commit known to be on the master. */
export const PUSHED_REF = 'refs/pacha/pushed';

/** Who asks for a commit: the part of pacha, and the person for a CLI command. */
export interface CommitBy {
  origin: CommitOrigin;
  user?: string | undefined;
}

export class Store {
  private accounts: Accounts | undefined;
  private facts: Promise<HostFacts> | undefined;
  private readonly ensured = new Set<string>();

  private constructor(
    readonly stateDir: string,
    readonly host: string,
  ) {}

  static async open(stateDir: string, host: string): Promise<Store> {
    await ensurePrivateDir(stateDir);
    await ensurePrivateDir(path.join(stateDir, 'repos'));
    return new Store(stateDir, host);
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

  /** Start tracking a directory (or one file with `single`). Records nothing if the path is unusable. */
  async track(location: string, options: { single?: boolean } = {}): Promise<{ tracked: TrackedPath; created: boolean }> {
    const single = options.single ?? false;
    const absolute = path.resolve(location);
    await checkTrackable(absolute, single);
    const registry = await readRegistry(this.stateDir);
    const existing = registry.paths.find((p) => p.location === absolute);
    if (existing) return { tracked: this.withGitDir(existing), created: false };
    const name = chooseName(absolute, new Set(registry.paths.map((p) => p.name)));
    const tracked = this.withGitDir({ location: absolute, name, single });
    await this.initGitDir(tracked);
    registry.paths.push({ location: absolute, name, single });
    await writeRegistry(this.stateDir, registry);
    return { tracked, created: true };
  }

  /** Register a git dir cloned from the master (rebuild): same history, new work tree. */
  async adopt(entry: TrackedEntry, clonedGitDir: string): Promise<TrackedPath> {
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
    const head = await revParse(this.git(tracked), BRANCH);
    if (head) await this.git(tracked).raw(['update-ref', PUSHED_REF, head]);
    if (!existing) {
      registry.paths.push(entry);
      await writeRegistry(this.stateDir, registry);
    }
    return tracked;
  }

  async untrack(location: string): Promise<TrackedPath> {
    const registry = await readRegistry(this.stateDir);
    const tracked = await this.find(location);
    if (!tracked || (tracked.location !== path.resolve(location) && tracked.name !== location)) {
      throw new UsageError(`${location} is not tracked`, { hint: '`pacha status` lists the tracked paths' });
    }
    registry.paths = registry.paths.filter((p) => p.location !== tracked.location);
    await writeRegistry(this.stateDir, registry);
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
    const git = gitAt({ gitDir: tracked.gitDir });
    const settings: Array<[string, string]> = [
      ['core.bare', 'false'],
      ['core.worktree', this.workTree(tracked)],
      ['core.fileMode', 'true'],
      ['core.symlinks', 'true'],
      ['core.autocrlf', 'false'],
      ['core.quotePath', 'false'],
      ['commit.gpgSign', 'false'],
      ['gc.autoDetach', 'false'],
    ];
    for (const [key, value] of settings) await git.raw(['config', key, value]);
  }

  private async accountsOnce(): Promise<Accounts> {
    this.accounts ??= await loadAccounts('/');
    return this.accounts;
  }

  /** The instance and boot this process runs in (read once: neither changes while it runs). */
  hostFacts(): Promise<HostFacts> {
    this.facts ??= readHostFacts(this.stateDir);
    return this.facts;
  }

  /** Commit the tracked path as it is now; null when nothing changed since the last commit. */
  async commit(tracked: TrackedPath, options: { message?: string; by?: CommitBy } = {}): Promise<CommitResult | null> {
    const metadata = await captureMetadata({
      location: tracked.location,
      single: tracked.single,
      host: this.host,
      accounts: await this.accountsOnce(),
    }).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT') {
        throw new OperationError('EGONE', `tracked path ${tracked.location} no longer exists`, {
          hint: `restore it with \`pacha rebuild --directory ${tracked.name}\`, or stop tracking it with \`pacha unwatch ${tracked.location}\``,
          cause: error,
        });
      }
      throw error;
    });
    const provenance = { ...(await this.hostFacts()), ...options.by };
    return commitSnapshot({ git: this.git(tracked), gitDir: tracked.gitDir, metadata, provenance, ...(options.message === undefined ? {} : { message: options.message }) });
  }

  async head(tracked: TrackedPath): Promise<string | undefined> {
    return revParse(this.git(tracked), BRANCH);
  }

  /** Commits not yet on the master. */
  async unpushed(tracked: TrackedPath): Promise<number> {
    const git = this.git(tracked);
    const head = await revParse(git, BRANCH);
    if (!head) return 0;
    const pushed = await revParse(git, PUSHED_REF);
    const range = pushed ? `${pushed}..${head}` : head;
    return Number((await git.raw(['rev-list', '--count', range])).trim());
  }

  /** Push main to the master. Never forces: a rejected push saves the history on a side ref. */
  async push(tracked: TrackedPath, master: Master): Promise<PushResult> {
    const git = this.git(tracked, master.gitEnv());
    const head = await revParse(git, BRANCH);
    if (!head) return { status: 'up-to-date' };
    const pending = await this.unpushed(tracked);
    if (pending === 0) return { status: 'up-to-date' };
    if (!this.ensured.has(tracked.name)) {
      await master.ensureRepository(this.host, tracked.name);
      this.ensured.add(tracked.name);
    }
    const url = master.repositoryUrl(this.host, tracked.name);
    try {
      await git.raw(['push', '--porcelain', '--quiet', url, `${BRANCH}:${BRANCH}`]);
    } catch (error) {
      const failure = classifyPushFailure(String((error as Error).message));
      if (failure.kind === 'non-fast-forward') {
        const ref = divergedRef(this.host, new Date());
        await git.raw(['push', '--porcelain', '--quiet', url, `${BRANCH}:${ref}`]);
        return { status: 'diverged', ref };
      }
      const where = `${master.label} (${tracked.name})`;
      const message = `push of ${tracked.location} to ${where} failed: ${failure.summary}`;
      if (failure.kind === 'unreachable' || failure.kind === 'host-key' || failure.kind === 'key') {
        throw new MasterUnreachableError(message, {
          code: { 'host-key': 'EHOSTKEY', key: 'ESSHKEY', unreachable: 'EUNREACHABLE' }[failure.kind],
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
    await git.raw(['update-ref', PUSHED_REF, head]);
    return { status: 'pushed', sha: head, commits: pending };
  }
}

async function checkTrackable(location: string, single: boolean): Promise<void> {
  let stats;
  try {
    stats = await lstat(location);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new UsageError(`${location} does not exist; nothing was recorded`, { hint: 'check the path and try again' });
    }
    throw error;
  }
  if (single && !stats.isFile()) {
    throw new UsageError(`${location} is not a regular file; --single tracks one file`, { hint: 'drop --single to track a directory' });
  }
  if (!single && !stats.isDirectory()) {
    throw new UsageError(`${location} is not a directory`, { hint: `to track one file, use \`pacha watch --single ${location}\`` });
  }
}
