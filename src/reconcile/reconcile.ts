// `pacha reconcile PATH --keep-master | --keep-local`: the way out of a divergence (the
// master's branch and this host's each have commits the other lacks). Nothing is forced and
// nothing is lost, either way:
//   --keep-local   a merge commit whose first parent is the master's head and whose tree is
//                  this host's, pushed normally (a fast-forward on the master): the master's
//                  commits stay in the history, this host's files win.
//   --keep-master  this host's history is kept twice (a git bundle in the backups, and the
//                  ref refs/pacha/discarded/<host>/<head> on the master), then the path is
//                  rebuilt from the master: displaced files are backed up by the rebuild,
//                  files the master lacks are moved into the same backup dir; both listed.
// Either way the diverged refs this history left on the master are removed, once what they
// hold is reachable from the master's branch (keep-local) or kept under discarded/ (keep-master).
import { cp, lstat, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { OperationError, UsageError } from '../errors.js';
import type { Master } from '../master/master.js';
import { rebuild } from '../rebuild/rebuild.js';
import { backupDirFor } from '../rebuild/place.js';
import { BRANCH } from '../store/commit.js';
import { revParse, type Git } from '../store/git.js';
import { withTrailers, type Provenance } from '../store/provenance.js';
import { PUSHED_REF, type PushResult, type Store, type TrackedPath } from '../store/store.js';
import { classifyRelation, reconcileMessage, type Keep, type Relation } from './decide.js';

/** Where the master's branch is fetched to, locally. */
export const MASTER_REF = 'refs/pacha/master';

export interface ReconcileOptions {
  store: Store;
  master: Master;
  tracked: TrackedPath;
  keep: Keep;
  stateDir: string;
  hooksTimeoutSeconds: number;
  by: Provenance;
  now?: Date;
}

export interface ReconcileResult {
  location: string;
  keep: Keep;
  relation: Relation;
  /** This host's head and the master's, before. */
  local: string | null;
  masterHead: string | null;
  /** The branch's head after (both sides agree on it). */
  head: string | null;
  /** Files that differed between the two trees (what the side not kept had). */
  differences: string[];
  /** keep-master: where this host's files and history were kept. */
  backupDir?: string;
  bundle?: string;
  discardedRef?: string;
  /** Files the master lacks, moved into the backup dir (keep-master). */
  movedAside: string[];
  /** Diverged refs removed from the master. */
  removedRefs: string[];
  push?: PushResult;
}

export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const { store, master, tracked, keep } = options;
  const now = options.now ?? new Date();
  // What the tracked path holds now is part of this host's side: committed first.
  await store.commit(tracked, { by: { origin: 'reconcile', user: options.by.user } });
  const git = store.git(tracked, master.gitEnv());
  const url = master.repositoryUrl(store.host, tracked.name);
  const local = (await revParse(git, BRANCH)) ?? null;
  const remoteHead = (await git.raw(['ls-remote', url, BRANCH])).split('\t')[0]?.trim() || null;
  if (remoteHead) await git.raw(['fetch', '-q', '--no-tags', url, `+${BRANCH}:${MASTER_REF}`]);
  const ancestor = async (a: string, b: string): Promise<boolean> => git.raw(['merge-base', '--is-ancestor', a, b]).then(() => true, () => false);
  const relation = classifyRelation({
    local,
    master: remoteHead,
    localInMaster: local && remoteHead ? await ancestor(local, remoteHead) : false,
    masterInLocal: local && remoteHead ? await ancestor(remoteHead, local) : false,
  });
  const differences = local && remoteHead ? await changedFiles(git, remoteHead, local) : [];
  const result: ReconcileResult = { location: tracked.location, keep, relation, local, masterHead: remoteHead, head: local, differences, movedAside: [], removedRefs: [] };
  if (relation === 'no-master') {
    throw new UsageError(`${master.label} has no history of ${tracked.location} (${tracked.name}): nothing to reconcile`, { hint: '`pacha push` sends it' });
  }
  if (relation === 'no-local') {
    throw new UsageError(`${tracked.location} has no commit here: nothing to reconcile`, { hint: `\`pacha rebuild --directory ${tracked.name}\` takes the master's` });
  }

  if (keep === 'local') {
    if (relation !== 'same' && relation !== 'local-ahead') {
      const message = withTrailers(reconcileMessage('local', tracked, remoteHead!, local!), { ...(await store.hostFacts()), ...options.by, origin: 'reconcile' });
      const parents = relation === 'diverged' ? ['-p', remoteHead!, '-p', local!] : ['-p', remoteHead!];
      await store.writing(tracked, async () => {
        const sha = (await git.raw(['commit-tree', `${local}^{tree}`, ...parents, '-m', message])).trim();
        // Fails if a commit landed since (the daemon): nothing changed, run it again.
        await git.raw(['update-ref', '-m', 'pacha reconcile --keep-local', BRANCH, sha, local!]);
      });
    }
    result.push = await store.push(tracked, master);
    result.head = (await revParse(git, BRANCH)) ?? null;
    if (result.push.status === 'diverged') {
      throw new OperationError('EDIVERGED', `the master's history of ${tracked.location} moved again while reconciling; nothing was forced`, {
        hint: `run \`pacha reconcile ${tracked.location} --keep-local\` again`,
      });
    }
    result.removedRefs = await removeDivergedRefs(store, tracked, git, url, async (sha) => ancestor(sha, result.head!));
  } else if (relation === 'same') {
    result.removedRefs = await removeDivergedRefs(store, tracked, git, url, async (sha) => ancestor(sha, remoteHead!));
  } else {
    const backupDir = backupDirFor(options.stateDir, now);
    await mkdir(backupDir, { recursive: true, mode: 0o700 });
    result.backupDir = backupDir;
    if (relation !== 'master-ahead') {
      // This host's history, kept twice before anything is replaced.
      result.bundle = path.join(backupDir, `${tracked.name}.bundle`);
      await git.raw(['bundle', 'create', '-q', result.bundle, BRANCH]);
      result.discardedRef = `refs/pacha/discarded/${store.host}/${local!.slice(0, 12)}`;
      await git.raw(['push', '--porcelain', '--quiet', ...(await master.pushOptions()), url, `${local}:${result.discardedRef}`]);
    }
    result.removedRefs = await removeDivergedRefs(store, tracked, git, url, async () => true);
    // The local history is on the master now (its branch, or discarded/): the rebuild may replace it here.
    await store.writing(tracked, () => git.raw(['update-ref', PUSHED_REF, local!]));
    const outcome = await rebuild({
      master,
      store,
      host: store.host,
      stateDir: options.stateDir,
      root: '/',
      directory: tracked.name,
      hooksTimeoutSeconds: options.hooksTimeoutSeconds,
    });
    if (outcome.dryRun) throw new Error('a rebuild without dryRun returned a dry run');
    // One backup dir for all of it: the rebuild's (displaced files), with the bundle moved in.
    const displaced = outcome.report.backupDir;
    if (displaced && displaced !== backupDir) {
      await mkdir(displaced, { recursive: true, mode: 0o700 });
      if (result.bundle) {
        const moved = path.join(displaced, path.basename(result.bundle));
        await rename(result.bundle, moved);
        result.bundle = moved;
      }
      await rm(backupDir, { recursive: true, force: true });
      result.backupDir = displaced;
    }
    const extras = outcome.plans.flatMap((p) => p.extras);
    result.movedAside = await moveAside(store, tracked, extras, path.join(result.backupDir, tracked.location));
    result.head = (await revParse(store.git(tracked), BRANCH)) ?? null;
  }
  return result;
}

/** Paths whose content differs between two commits (metadata file included: owners, modes). */
async function changedFiles(git: Git, a: string, b: string): Promise<string[]> {
  return (await git.raw(['diff', '--name-only', '--no-renames', a, b])).split('\n').filter(Boolean);
}

/**
 * Remove this host's diverged refs on the master whose commit is kept (`kept(sha)`). A ref
 * another history left (a second instance with this name) whose commit is not kept stays.
 */
async function removeDivergedRefs(store: Store, tracked: TrackedPath, git: Git, url: string, kept: (sha: string) => Promise<boolean>): Promise<string[]> {
  const prefix = `refs/pacha/diverged/${store.host}/`;
  const refs = (await git.raw(['ls-remote', url, `${prefix}*`]))
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((parts): parts is [string, string] => parts.length === 2 && parts[1]!.startsWith(prefix));
  const removable: string[] = [];
  for (const [sha, ref] of refs) {
    const known = await git.raw(['cat-file', '-e', `${sha}^{commit}`]).then(() => true, () => false);
    if (known && (await kept(sha))) removable.push(ref);
  }
  if (removable.length > 0) await git.raw(['push', '--porcelain', '--quiet', url, ...removable.map((ref) => `:${ref}`)]);
  await store.recordDivergence(tracked, undefined);
  return removable;
}

/** Move entries the master lacks (not ignored ones) into the backup dir, keeping their place. */
async function moveAside(store: Store, tracked: TrackedPath, extras: string[], backupRoot: string): Promise<string[]> {
  const moved: string[] = [];
  for (const rel of extras) {
    const from = path.join(tracked.location, rel);
    const stats = await lstat(from).catch(() => undefined);
    if (!stats || store.isIgnored(tracked, rel, stats.isDirectory())) continue;
    const to = path.join(backupRoot, rel);
    await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
    try {
      await rename(from, to);
    } catch {
      // Another file system: copied (modes, times, symlinks as they are), then removed.
      await cp(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true, errorOnExist: true, force: false });
      await rm(from, { recursive: true, force: true });
    }
    moved.push(rel);
  }
  return moved;
}
