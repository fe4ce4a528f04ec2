// One commit of a tracked path: stage the files as they are (git add, ignoring no file the
// user has), add `.pacha/metadata.json` from a fresh capture, and commit only if the tree
// differs from HEAD's. Comparing trees catches content, additions, removals, renames and
// metadata-only changes (chmod, chown, a retargeted symlink) with one mechanism.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OperationError } from '../errors.js';
import { commitMessage, contentChanges, metadataChanges, parseNameStatus, type Change } from './changes.js';
import { serializeMetadata, TEMP_PREFIX } from './capture.js';
import { revParse, type Git } from './git.js';
import { METADATA_PATH, type Metadata } from './metadata.js';
import { withTrailers, type Provenance } from './provenance.js';

export const BRANCH = 'refs/heads/main';

export interface CommitResult {
  sha: string;
  changes: Change[];
  /** Changed paths, as shown in the commit message. */
  changed: string[];
  message: string;
}

/** Pathspecs of what is tracked inside the work tree. */
export function trackedPathspec(single: boolean, location: string): string[] {
  const own = [`:(exclude,glob)**/${TEMP_PREFIX}*`, `:(exclude,literal)${METADATA_PATH}`];
  return single ? [`:(literal)${path.basename(location)}`] : ['.', ...own];
}

async function previousMetadata(git: Git, head: string): Promise<Metadata | undefined> {
  try {
    return JSON.parse(await git.raw(['show', `${head}:${METADATA_PATH}`])) as Metadata;
  } catch {
    return undefined;
  }
}

/**
 * The tracked path as it is now, as a git tree (files staged in git's index — the caller's
 * GIT_INDEX_FILE — plus `.pacha/metadata.json`); `scratch` receives the metadata file.
 */
export async function writeSnapshotTree(git: Git, scratch: string, metadata: Metadata): Promise<string> {
  // -f: a .gitignore inside a tracked directory must not hide a configuration file.
  await git.raw(['add', '-A', '-f', '--', ...trackedPathspec(metadata.single, metadata.location)]);
  await mkdir(scratch, { recursive: true, mode: 0o700 });
  const metadataFile = path.join(scratch, 'metadata.json');
  await writeFile(metadataFile, serializeMetadata(metadata), { mode: 0o600 });
  const blob = (await git.raw(['hash-object', '-w', '--', metadataFile])).trim();
  await git.raw(['update-index', '--add', '--cacheinfo', `100644,${blob},${METADATA_PATH}`]);
  return (await git.raw(['write-tree'])).trim();
}

export async function commitSnapshot(options: {
  git: Git;
  gitDir: string;
  metadata: Metadata;
  message?: string;
  /** Who made it: trailers after the message (provenance.ts). */
  provenance?: Provenance;
}): Promise<CommitResult | null> {
  const { git, gitDir, metadata } = options;
  const tree = await writeSnapshotTree(git, path.join(gitDir, 'pacha'), metadata);

  const head = await revParse(git, BRANCH);
  const headTree = head ? (await git.raw(['rev-parse', `${head}^{tree}`])).trim() : undefined;
  if (tree === headTree) return null;

  let changes: Change[];
  if (head) {
    const content = contentChanges(parseNameStatus(await git.raw(['diff-tree', '-r', '-z', '--name-status', '-M', headTree!, tree])));
    const listed = new Set(content.map((c) => c.path));
    changes = [...content, ...metadataChanges(await previousMetadata(git, head), metadata, listed)];
    if (changes.length === 0) changes = [{ kind: 'P', path: '.', detail: 'metadata' }];
  } else {
    changes = metadata.entries.filter((e) => e.type !== 'directory').map((e) => ({ kind: 'A' as const, path: e.path }));
  }
  const message = withTrailers(options.message ?? commitMessage(metadata.location, changes, head === undefined), options.provenance ?? {});
  const sha = (await git.raw(['commit-tree', tree, ...(head ? ['-p', head] : []), '-m', message])).trim();
  try {
    // Compare-and-swap: a concurrent commit by another pacha process is never overwritten.
    await git.raw(['update-ref', '-m', 'pacha commit', BRANCH, sha, head ?? '']);
  } catch (error) {
    throw new OperationError('ECONCURRENT', `another process committed ${metadata.location} at the same time; try again`, { cause: error });
  }
  return { sha, changes, changed: changes.map((c) => c.path), message };
}
