// `pacha show PATH --at REV`: a file as it was at REV (its bytes and its metadata entry);
// for a directory, its entries then.
import { UsageError } from '../errors.js';
import type { MetadataEntry } from '../store/metadata.js';
import { historyGit } from './git.js';
import { resolveRevision, type Revision } from './revision.js';
import { inScope, type Scope } from './scope.js';
import { metadataAt } from './snapshot.js';

export interface ShownPath {
  revision: Revision;
  entry: MetadataEntry;
  /** Files: the bytes; symlinks: the target's bytes. */
  content?: Buffer;
  /** Directories: every entry beneath it then. */
  entries?: MetadataEntry[];
}

export async function showAt(scope: Scope, at: string, now?: Date): Promise<ShownPath> {
  const { tracked } = scope;
  const git = historyGit(tracked);
  const revision = await resolveRevision(git, tracked.location, at, now);
  const metadata = await metadataAt(tracked, revision.sha);
  const entry = metadata.entries.find((e) => e.path === scope.entry);
  if (!entry) {
    throw new UsageError(`${scope.shown} did not exist at ${revision.sha.slice(0, 12)} (${revision.time})`, {
      hint: `\`pacha log ${scope.shown}\` lists the commits that touched it`,
    });
  }
  if (entry.type === 'directory') {
    return { revision, entry, entries: metadata.entries.filter((e) => e.path !== entry.path && inScope(scope, e.path)) };
  }
  // Special files (FIFOs, devices, sockets) have no content in git: their metadata is all there is.
  if (entry.type !== 'file' && entry.type !== 'symlink') return { revision, entry };
  const content = (await git.binaryCatFile(['blob', `${revision.sha}:${entry.path}`])) as Buffer;
  return { revision, entry, content };
}
