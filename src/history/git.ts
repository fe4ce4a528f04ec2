// git for reading a tracked path's history (commits, trees, blobs). Bound to the git dir
// alone, never to the tracked path: history must stay readable when the tracked path is
// gone (a rollback of a deleted directory), and reading it must not depend on, or touch,
// the work tree or the store's index.
import { gitAt, type Git } from '../store/git.js';
import type { TrackedPath } from '../store/store.js';

export function historyGit(tracked: Pick<TrackedPath, 'gitDir'>): Git {
  // git insists on a work tree that exists (core.worktree names the tracked path); the git
  // dir itself serves, as nothing here reads or writes a work tree.
  return gitAt({ gitDir: tracked.gitDir, workTree: tracked.gitDir });
}
