// `pacha rollback PATH --to REV`: put a file, a directory, or a whole tracked path back as
// it was at REV, contents and metadata, with the rebuild's own machinery: REV's tree is
// checked out into a fresh 0700 stage under the state dir, its metadata validated, the
// target inspected and planned, then placed atomically per file with owners and modes;
// what did not exist at REV is moved to the backup dir. The result is a NEW commit: history
// is never rewritten, and the rollback can itself be rolled back.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, isPachaError, OperationError, UsageError } from '../errors.js';
import { entryLocation, lstatOrUndefined } from '../fs/entry.js';
import { inspectAndPlan } from '../rebuild/rebuild.js';
import { loadTargetAccounts, recordedNames } from '../rebuild/owners.js';
import { backupDirFor, placeRepository, type PlaceResult } from '../rebuild/place.js';
import type { Plan } from '../rebuild/plan.js';
import { createStage } from '../rebuild/stage.js';
import { gitAt } from '../store/git.js';
import type { CommitBy, CommitResult, Store, TrackedPath } from '../store/store.js';
import { moveAside } from './aside.js';
import { historyGit } from './git.js';
import { resolveRevision, type Revision } from './revision.js';
import { isNoop, limitPlan, scopeMetadata } from './rollback-plan.js';
import type { Scope } from './scope.js';
import { metadataAt } from './snapshot.js';

export interface RollbackOptions {
  store: Store;
  scope: Scope;
  /** REV: a commit or a time. */
  to: string;
  dryRun?: boolean;
  now?: Date;
  /** Who asked (the Pacha-User trailer of the commits a rollback makes). */
  user?: string | undefined;
}

export interface RollbackResult {
  revision: Revision;
  dryRun: boolean;
  /** What placing does (create/replace/update-metadata) and what is moved aside (extras). */
  plan: Plan;
  /** The commit of what was on disk before the rollback, when it had not been committed yet. */
  before: CommitResult | null;
  placed?: PlaceResult;
  /** Entries that did not exist at REV, and where they went. */
  movedAside: Array<{ path: string; backup: string }>;
  /** The rollback commit; null when nothing changed (or another pacha process committed it first). */
  commit: CommitResult | null;
  /** true when the scope was already as it was at REV. */
  noop: boolean;
}

/** Commit what is on disk, once more if another pacha process (the daemon) committed at the same moment. */
async function commitNow(store: Store, tracked: TrackedPath, by: CommitBy, message?: string): Promise<CommitResult | null> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.commit(tracked, message === undefined ? { by } : { by, message });
    } catch (error) {
      if (isPachaError(error) && error.code === 'ECONCURRENT' && attempt < 3) continue;
      throw error;
    }
  }
}

/** Check REV's tree out into the stage: every file of it, through a private index. */
async function checkout(tracked: TrackedPath, sha: string, stageDir: string): Promise<string> {
  const tree = path.join(stageDir, 'tree');
  await mkdir(tree, { mode: 0o700 });
  const git = gitAt({ gitDir: tracked.gitDir, workTree: tree, env: { GIT_INDEX_FILE: path.join(stageDir, 'index') } });
  await git.raw(['read-tree', sha]);
  await git.raw(['checkout-index', '-a', '-f']);
  return tree;
}

function rollbackMessage(scope: Scope, revision: Revision, plan: Plan): string {
  const short = revision.sha.slice(0, 12);
  const given = revision.given === short || revision.sha.startsWith(revision.given) ? '' : ` (${revision.given})`;
  const lines = [
    ...plan.entries.filter((e) => e.action !== 'unchanged' && e.action !== 'skip').map((e) => `${e.action} ${e.path}`),
    ...plan.extras.map((p) => `aside ${p}`),
  ];
  return `rollback ${scope.shown} to ${short}${given}\n\n${lines.join('\n')}`;
}

/** Plan the rollback (read-only), then, unless dry run, place it and commit. */
export async function rollback(options: RollbackOptions): Promise<RollbackResult> {
  const { store, scope } = options;
  const { tracked } = scope;
  const dryRun = Boolean(options.dryRun);
  const by: CommitBy = { origin: 'rollback', user: options.user };
  // Resolved before what is on disk is committed: `--to HEAD` means the last commit as the
  // user saw it, so it discards uncommitted changes (kept in history and in the backups).
  const revision = await resolveRevision(historyGit(tracked), tracked.location, options.to, options.now);

  // What is on disk now becomes a commit of its own first: the rollback commit then holds
  // the rollback alone, and the state it replaced stays in history.
  let before: CommitResult | null = null;
  if (!dryRun) {
    before = await commitNow(store, tracked, by).catch((error: unknown) => {
      if (isPachaError(error) && error.code === 'EGONE') return null; // the tracked path is gone: nothing to record
      throw error;
    });
  }

  const stage = await createStage(store.stateDir);
  try {
    const metadata = await metadataAt(tracked, revision.sha);
    if (metadata.location !== tracked.location || metadata.single !== tracked.single) {
      throw new OperationError('EMETADATA', `commit ${revision.sha.slice(0, 12)} of ${tracked.name} describes ${metadata.location}, not ${tracked.location}`, {
        hint: 'choose a revision made on this tracked path (`pacha log PATH`)',
      });
    }
    const scoped = scopeMetadata(metadata, scope);
    const stageTree = await checkout(tracked, revision.sha, stage.dir);
    const accounts = await loadTargetAccounts('/', recordedNames(scoped.entries));
    const plan = limitPlan(await inspectAndPlan({ repository: tracked.name, metadata: scoped, stageTree, root: '/', accounts, partial: !scope.whole }), scope);
    await addAbsentScope(plan, scope, scoped.entries.some((e) => e.path === scope.entry), revision);

    if (plan.refused.length > 0) {
      const lines = plan.refused.map((r) => `${r.path}: ${r.reason}`);
      throw new OperationError('EUNSAFE', `refusing to roll ${scope.shown} back; nothing was touched:\n  ${lines.join('\n  ')}`, {
        hint: 'move the offending entry aside and roll back again',
        details: { refused: lines },
      });
    }
    const noop = isNoop(plan);
    const result: RollbackResult = { revision, dryRun, plan, before, movedAside: [], commit: null, noop };
    if (dryRun || noop) return result;

    const backupDir = backupDirFor(store.stateDir, options.now ?? new Date());
    result.placed = await placeRepository(plan, { root: '/', backupDir });
    for (const extra of plan.extras) {
      const backup = await moveAside(plan, extra, backupDir);
      if (backup) result.movedAside.push({ path: extra, backup });
    }
    result.commit = await commitNow(store, tracked, by, rollbackMessage(scope, revision, plan));
    return result;
  } finally {
    await stage.remove();
  }
}

/**
 * A file or directory that did not exist at REV: rolling it back removes it (moves it
 * aside), even when the directory holding it did not exist at REV either.
 */
async function addAbsentScope(plan: Plan, scope: Scope, existedAtRev: boolean, revision: Revision): Promise<void> {
  if (scope.whole || existedAtRev || plan.extras.includes(scope.entry)) return;
  let present;
  try {
    present = await lstatOrUndefined(entryLocation(plan.targetRoot, scope.entry));
  } catch (error) {
    if (errnoCode(error) !== 'EACCES') throw error;
  }
  if (!present) {
    throw new UsageError(`${scope.shown} did not exist at ${revision.sha.slice(0, 12)} (${revision.time}) and does not exist now; nothing to roll back`, {
      hint: `\`pacha log ${scope.shown}\` lists the commits that touched it`,
    });
  }
  plan.extras.push(scope.entry);
}
