// Which part of which tracked path a history command is about: the whole tracked path, or
// one file or directory inside a tracked directory. Entry paths are the metadata's:
// relative to the tracked directory, '/'-separated, '.' for the directory itself; a single
// tracked file's only entry is its basename.
import path from 'node:path';
import { UsageError } from '../errors.js';
import { isMetadataPath, METADATA_DIR } from '../store/metadata.js';
import type { Store, TrackedPath } from '../store/store.js';

export interface Scope {
  tracked: TrackedPath;
  /** The entry path the command is about ('.' = the whole tracked directory). */
  entry: string;
  /** true when the scope is the whole tracked path. */
  whole: boolean;
  /** The absolute path on the host, for messages. */
  shown: string;
}

/** The scope of a PATH argument: a tracked path, a path inside a tracked directory, or a tracked path's name. */
export async function resolveScope(store: Store, argument: string): Promise<Scope> {
  const tracked = await store.find(argument);
  if (!tracked) {
    throw new UsageError(`${path.resolve(argument)} is not tracked, nor inside a tracked directory`, {
      hint: '`pacha status` lists the tracked paths',
    });
  }
  const absolute = path.resolve(argument);
  if (tracked.single) return { tracked, entry: path.basename(tracked.location), whole: true, shown: tracked.location };
  if (absolute === tracked.location || !absolute.startsWith(`${tracked.location}/`)) {
    return { tracked, entry: '.', whole: true, shown: tracked.location };
  }
  const entry = path.relative(tracked.location, absolute).split(path.sep).join('/');
  if (entry === METADATA_DIR || isMetadataPath(entry)) {
    throw new UsageError(`${absolute} is pacha's own metadata, not a tracked file`, { hint: 'give a file or directory of the tracked path' });
  }
  return { tracked, entry, whole: false, shown: absolute };
}

/** Whether an entry path (or a change's path, possibly ending in '/') lies in the scope. Pure. */
export function inScope(scope: Pick<Scope, 'entry' | 'whole'>, entryPath: string): boolean {
  if (scope.whole) return true;
  const p = entryPath.endsWith('/') ? entryPath.slice(0, -1) : entryPath;
  return p === scope.entry || p.startsWith(`${scope.entry}/`);
}

/** git pathspecs for the scope's content, without pacha's metadata files (all under `.pacha`). Pure. */
export function scopePathspec(scope: Pick<Scope, 'entry' | 'whole'>): string[] {
  if (scope.whole && scope.entry === '.') return ['.', `:(exclude,literal)${METADATA_DIR}`];
  return [`:(literal)${scope.entry}`];
}
