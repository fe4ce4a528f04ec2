// `pacha diff PATH [--from REV] [--to REV]`: content (git's own diff, limited to the path)
// and metadata (mode, owner, group, type, target per entry). Like `git diff`, --from
// defaults to the last commit and --to to the state on disk now (captured, not committed).
import { createStage } from '../rebuild/stage.js';
import { UsageError } from '../errors.js';
import { BRANCH } from '../store/commit.js';
import { revParse } from '../store/git.js';
import type { Store } from '../store/store.js';
import { historyGit } from './git.js';
import { diffMetadata, type EntryDifference } from './metadata-diff.js';
import { resolveRevision, type Revision } from './revision.js';
import { scopePathspec, type Scope } from './scope.js';
import { commitSnapshot, diskSnapshot, type Snapshot } from './snapshot.js';

export interface PathDiff {
  from: Revision;
  /** undefined: the state on disk. */
  to: Revision | undefined;
  /** `git diff` output (unified, with mode lines), limited to the scope; '' when equal. */
  content: string;
  metadata: EntryDifference[];
}

export async function diffPath(store: Store, scope: Scope, options: { from?: string; to?: string; now?: Date }): Promise<PathDiff> {
  const { tracked } = scope;
  const git = historyGit(tracked);
  if (!(await revParse(git, BRANCH))) {
    throw new UsageError(`${tracked.location} has no commits yet`, { hint: '`pacha push` makes the first one' });
  }
  const from = await resolveRevision(git, tracked.location, options.from ?? 'HEAD', options.now);
  const to = options.to === undefined ? undefined : await resolveRevision(git, tracked.location, options.to, options.now);
  const stage = to ? undefined : await createStage(store.stateDir);
  try {
    const before = await commitSnapshot(tracked, from.sha);
    const after: Snapshot = to ? await commitSnapshot(tracked, to.sha) : await diskSnapshot(store, tracked, stage!.dir);
    const content = await git.raw([
      'diff', '--no-color', '--no-ext-diff', '--no-textconv', '-M', before.tree, after.tree, '--', ...scopePathspec(scope),
    ]);
    return { from, to, content, metadata: diffMetadata(before.metadata, after.metadata, scope) };
  } finally {
    await stage?.remove();
  }
}
