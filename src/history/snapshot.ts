// The trees `pacha diff` compares: a commit's, or the tracked path as it is on disk now,
// written as a git tree exactly as the next commit would see it (same capture, same
// ignore rules, same index sync) but through a private index: the store's own index, which a running
// daemon uses, is never touched, and nothing is committed.
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, OperationError } from '../errors.js';
import { validateMetadata } from '../rebuild/validate.js';
import { BRANCH, writeSnapshotTree } from '../store/commit.js';
import { revParse } from '../store/git.js';
import { METADATA_PATH, METADATA_VERSION, type Metadata } from '../store/metadata.js';
import { readMetadataAt } from '../store/metadata-read.js';
import type { Store, TrackedPath } from '../store/store.js';
import { historyGit } from './git.js';

export interface Snapshot {
  /** A git tree id. */
  tree: string;
  metadata: Metadata;
}

/** The metadata a commit carries, checked like any metadata read back (validateMetadata). */
export async function metadataAt(tracked: TrackedPath, sha: string): Promise<Metadata> {
  const read = await readMetadataAt(historyGit(tracked), sha);
  if (read.problem) {
    throw new OperationError('ENOMETADATA', `commit ${sha.slice(0, 12)} of ${tracked.location} has no readable ${METADATA_PATH}`, {
      hint: 'that commit was not made by pacha; choose another revision (`pacha log PATH`)',
      cause: read.problem,
    });
  }
  return validateMetadata(read.metadata, tracked.name);
}

export async function commitSnapshot(tracked: TrackedPath, sha: string): Promise<Snapshot> {
  const tree = (await historyGit(tracked).raw(['rev-parse', `${sha}^{tree}`])).trim();
  return { tree, metadata: await metadataAt(tracked, sha) };
}

/** The tracked path on disk now, as a tree; `scratch` is a private directory the caller removes. */
export async function diskSnapshot(store: Store, tracked: TrackedPath, scratch: string): Promise<Snapshot> {
  let metadata: Metadata;
  try {
    metadata = await store.capture(tracked);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
    // The tracked path is gone: on disk there is nothing.
    const empty = (await historyGit(tracked).raw(['hash-object', '-t', 'tree', '-w', '/dev/null'])).trim();
    return { tree: empty, metadata: { version: METADATA_VERSION, location: tracked.location, host: store.host, single: tracked.single, entries: [] } };
  }
  const index = path.join(scratch, 'index');
  const git = store.git(tracked, { GIT_INDEX_FILE: index });
  // Start from the store's index for its stat cache (git writes it by rename, so a copy is
  // whole); without one, from the last commit.
  try {
    await copyFile(path.join(tracked.gitDir, 'index'), index);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
    if (await revParse(git, BRANCH)) await git.raw(['read-tree', BRANCH]);
  }
  return writeSnapshotTree(git, tracked.gitDir, metadata);
}
