// One commit of a tracked path: stage exactly the files a fresh capture lists (by name, so
// no .gitignore hides one and no ignored file slips in), add `.pacha/metadata.json`, and
// commit only if the tree
// differs from HEAD's. Comparing trees catches content, additions, removals, renames and
// metadata-only changes (chmod, chown, a retargeted symlink) with one mechanism.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OperationError } from '../errors.js';
import { commitMessage, contentChanges, metadataChanges, parseNameStatus, type Change } from './changes.js';
import { serializeMetadata, UntrackableError } from './capture.js';
import { revParse, type Git } from './git.js';
import { METADATA_PATH, SKIPPED_TYPES, type Metadata, type MetadataEntry } from './metadata.js';
import { decodeName, fsPath, joinNul, splitNul } from './names.js';

export const BRANCH = 'refs/heads/main';

export interface CommitResult {
  sha: string;
  changes: Change[];
  /** Changed paths, as shown in the commit message. */
  changed: string[];
  message: string;
  /** Entries recorded but not restorable by a rebuild (sockets), for the user to hear once. */
  skipped: string[];
  /** false when extended attributes could not be read (no getfattr on this host). */
  xattrs: boolean;
}

async function previousMetadata(git: Git, head: string): Promise<Metadata | undefined> {
  try {
    return JSON.parse(await git.raw(['show', `${head}:${METADATA_PATH}`])) as Metadata;
  } catch {
    return undefined;
  }
}

/** What git holds of each entry type: files and symlinks (directories and special files live in the metadata only). */
function inIndex(entry: MetadataEntry): boolean {
  return entry.type === 'file' || entry.type === 'symlink';
}

async function indexedPaths(git: Git): Promise<Map<string, string>> {
  // -s: "<mode> <object> <stage>\t<path>", so gitlinks (160000) are seen as such.
  const out = new Map<string, string>();
  for (const line of splitNul(await git.bytes(['ls-files', '-s', '-z']))) {
    const tab = line.indexOf('\t');
    out.set(line.slice(tab + 1), line.slice(0, line.indexOf(' ')));
  }
  return out;
}

/**
 * Make git's index (the caller's GIT_INDEX_FILE) hold exactly the metadata's files and
 * symlinks, by name, byte for byte: ignored, removed or newly ignored paths leave it, and
 * no .gitignore inside the tracked path hides anything. Returns the metadata without
 * entries that vanished meanwhile; refuses loudly anything git would not take.
 */
async function syncIndex(git: Git, metadata: Metadata): Promise<Metadata> {
  const wanted = metadata.entries.filter(inIndex).map((e) => e.path);
  const keep = new Set([...wanted, METADATA_PATH]);
  const before = await indexedPaths(git);
  const stale = [...before.keys()].filter((p) => !keep.has(p));
  if (stale.length > 0) await git.bytes(['update-index', '--force-remove', '-z', '--stdin'], joinNul(stale));
  // --remove: a file deleted since the capture leaves the index instead of failing the commit.
  if (wanted.length > 0) await git.bytes(['update-index', '--add', '--remove', '-z', '--stdin'], joinNul(wanted));
  const after = await indexedPaths(git);
  const vanished = new Set<string>();
  const problems: Array<{ path: string; reason: string }> = [];
  for (const entry of metadata.entries.filter(inIndex)) {
    const mode = after.get(entry.path);
    const expected = entry.type === 'symlink' ? ['120000'] : ['100644', '100755'];
    if (mode === undefined) {
      if (!existsSync(fsPath(path.join(git.workTree ?? '/', entry.path)))) vanished.add(entry.path);
      else problems.push({ path: entry.path, reason: 'git did not record it' });
    } else if (!expected.includes(mode)) {
      throw new OperationError('ECONCURRENT', `${path.join(metadata.location, entry.path)} changed type while it was being committed; try again`);
    }
  }
  if (problems.length > 0) throw new UntrackableError(metadata.location, problems);
  if (vanished.size === 0) return metadata;
  return { ...metadata, entries: metadata.entries.filter((e) => !vanished.has(e.path)) };
}

/**
 * The tracked path as it is now, as a git tree (files staged in git's index — the caller's
 * GIT_INDEX_FILE — plus `.pacha/metadata.json`); `scratch` receives the metadata file.
 * Returns the tree and the metadata it holds.
 */
export async function writeSnapshotTree(git: Git, scratch: string, captured: Metadata): Promise<{ tree: string; metadata: Metadata }> {
  const metadata = await syncIndex(git, captured);
  await mkdir(scratch, { recursive: true, mode: 0o700 });
  const metadataFile = path.join(scratch, 'metadata.json');
  await writeFile(metadataFile, serializeMetadata(metadata), { mode: 0o600 });
  const blob = (await git.raw(['hash-object', '-w', '--no-filters', '--', metadataFile])).trim();
  await git.raw(['update-index', '--add', '--cacheinfo', `100644,${blob},${METADATA_PATH}`]);
  return { tree: (await git.raw(['write-tree'])).trim(), metadata };
}

export async function commitSnapshot(options: {
  git: Git;
  gitDir: string;
  metadata: Metadata;
  message?: string;
}): Promise<CommitResult | null> {
  const { git, gitDir } = options;
  const { tree, metadata } = await writeSnapshotTree(git, path.join(gitDir, 'pacha'), options.metadata);

  const head = await revParse(git, BRANCH);
  const headTree = head ? (await git.raw(['rev-parse', `${head}^{tree}`])).trim() : undefined;
  if (tree === headTree) return null;

  let changes: Change[];
  if (head) {
    const content = contentChanges(parseNameStatus(decodeName(await git.bytes(['diff-tree', '-r', '-z', '--name-status', '-M', headTree!, tree]))));
    const listed = new Set(content.map((c) => c.path));
    changes = [...content, ...metadataChanges(await previousMetadata(git, head), metadata, listed)];
    if (changes.length === 0) changes = [{ kind: 'P', path: '.', detail: 'metadata' }];
  } else {
    changes = metadata.entries.filter((e) => e.type !== 'directory').map((e) => ({ kind: 'A' as const, path: e.path }));
  }
  const message = options.message ?? commitMessage(metadata.location, changes, head === undefined);
  const sha = (await git.raw(['commit-tree', tree, ...(head ? ['-p', head] : []), '-m', message])).trim();
  try {
    // Compare-and-swap: a concurrent commit by another pacha process is never overwritten.
    await git.raw(['update-ref', '-m', 'pacha commit', BRANCH, sha, head ?? '']);
  } catch (error) {
    throw new OperationError('ECONCURRENT', `another process committed ${metadata.location} at the same time; try again`, { cause: error });
  }
  const skipped = metadata.entries.filter((e) => SKIPPED_TYPES.has(e.type)).map((e) => e.path);
  return { sha, changes, changed: changes.map((c) => c.path), message, skipped, xattrs: metadata.xattrs !== false };
}
