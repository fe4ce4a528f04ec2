// Which paths and names pacha refuses to track, whatever the user asks. Pure.
//
// The state dir is refused both ways: inside it (pacha's own git objects and keys) and as a
// parent of it. For a parent (/var/lib, /var, /) pacha could instead leave the state dir
// out, but such a path also holds package databases, caches and spools that change by the
// second and are no configuration a rebuild should put back; and its commits would depend
// on where pacha.state.path happens to point. Refusing, with the reason, makes the user
// name the directories they mean.
import path from 'node:path';
import { METADATA_DIR } from './metadata.js';

/** Kernel and runtime filesystems: nothing there survives a reboot or can be written back. */
export const VOLATILE_ROOTS: readonly string[] = ['/proc', '/sys', '/dev', '/run'];

function inside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent === '/' ? '/' : `${parent}/`);
}

/** Why `location` (absolute, resolved) cannot be tracked with this state dir (absolute, resolved), or undefined. */
export function trackableProblem(location: string, stateDir: string): string | undefined {
  const where = path.resolve(location);
  const state = path.resolve(stateDir);
  if (where === '/') return 'it is the whole filesystem, which holds pacha\'s own state dir, kernel filesystems and everything that is not configuration';
  const volatile = VOLATILE_ROOTS.find((root) => inside(root, where));
  if (volatile) return `it is on ${volatile}, a kernel or runtime filesystem that is rebuilt at every boot`;
  if (inside(state, where)) return `it lies inside pacha's state dir ${state} (pacha.state.path)`;
  if (inside(where, state)) return `it contains pacha's state dir ${state} (pacha.state.path): its keys and git objects would be pushed and committed in a loop`;
  return undefined;
}

/** Why git (hence pacha) cannot hold an entry, or undefined. `rel` is relative to the tracked path. */
export function untrackableReason(rel: string, single: boolean): string | undefined {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  if (base.toLowerCase() === '.git') {
    return 'a git directory or repository (git refuses any path named .git, and a nested repository would be recorded half)';
  }
  if (rel === METADATA_DIR) {
    // One file tracked alone sits at the top of its repository, beside pacha's metadata directory.
    return single
      ? `pacha keeps its metadata under ${METADATA_DIR} at the top of the file's repository, so a file of that name cannot be tracked alone`
      : `pacha keeps its metadata under ${METADATA_DIR} at the top of every tracked path`;
  }
  return undefined;
}
