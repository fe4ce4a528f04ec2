// One commit of a tracked path: stage exactly the files a fresh capture lists (by name, so
// no .gitignore hides one and no ignored file slips in), add the metadata files under
// `.pacha/` (metadata-files.ts), and commit only if the tree
// differs from HEAD's. Comparing trees catches content, additions, removals, renames and
// metadata-only changes (chmod, chown, a retargeted symlink) with one mechanism.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../errors.js';
import { commitMessage, contentChanges, metadataChanges, parseNameStatus, type Change } from './changes.js';
import { UntrackableError } from './capture.js';
import { revParse, type Git } from './git.js';
import { isMetadataPath, METADATA_PATH, METADATA_VERSION, SKIPPED_TYPES, type Metadata, type MetadataEntry } from './metadata.js';
import { metadataFiles, shardCount } from './metadata-files.js';
import { catFileBatch, readMetadataAt } from './metadata-read.js';
import { objectId, writeObject } from './objects.js';
import { decodeName, encodeName, fsPath, joinNul, splitNul } from '../fs/names.js';
import { crypto } from '../lazy-builtins.js';
import { withTrailers, type Provenance } from './provenance.js';
import { BRANCH } from './refs.js';

export { BRANCH };

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
  const read = await readMetadataAt(git, head);
  return read.problem ? undefined : (read.metadata as Metadata);
}

/** How many shards head's metadata was spread over (its header alone: one small object), if any. */
async function previousShards(git: Git, head: string): Promise<number | undefined> {
  const [header] = await catFileBatch(git, [`${head}:${METADATA_PATH}`]);
  try {
    const shards: unknown = header?.type === 'blob' ? (JSON.parse(header.content.toString('utf8')) as { shards?: unknown }).shards : undefined;
    return typeof shards === 'number' ? shards : undefined;
  } catch {
    return undefined;
  }
}

/** What git holds of each entry type: files and symlinks (directories and special files live in the metadata only). */
function inIndex(entry: MetadataEntry): boolean {
  return entry.type === 'file' || entry.type === 'symlink';
}

/** The index's paths with their modes, and the blobs of its metadata files (under `.pacha/`). */
async function indexedPaths(git: Git): Promise<{ modes: Map<string, string>; metadata: Map<string, string> }> {
  // -s: "<mode> <object> <stage>\t<path>", so gitlinks (160000) are seen as such.
  const modes = new Map<string, string>();
  const metadata = new Map<string, string>();
  for (const line of splitNul(await git.bytes(['ls-files', '-s', '-z']))) {
    const tab = line.indexOf('\t');
    const rel = line.slice(tab + 1);
    const space = line.indexOf(' ');
    modes.set(rel, line.slice(0, space));
    if (isMetadataPath(rel)) metadata.set(rel, line.slice(space + 1, line.indexOf(' ', space + 1)));
  }
  return { modes, metadata };
}

/**
 * What an index file held after pacha last wrote it, by index path: a digest of its files'
 * paths, and its metadata files (path → blob), so a daemon's next full commit whose files
 * are the same names (a reconcile, usually nothing new) runs no `ls-files` and writes no
 * metadata file it holds already, without keeping every name (the Set cost ~1.25 MiB at 50k
 * files, for the daemon's whole life). Trusted only while the file is the one pacha left
 * (same inode, size and mtime); another process's write is re-read.
 */
const knownIndexes = new Map<string, { stamp: string; digest: string; metadata: ReadonlyMap<string, string> }>();

/** SHA-256 of the paths, in order, as their bytes each ended by NUL. */
function pathsDigest(paths: readonly string[]): string {
  const hash = crypto().createHash('sha256');
  for (const p of paths) hash.update(encodeName(p)).update(NUL);
  return hash.digest('hex');
}

const NUL = Buffer.of(0);

function indexStamp(indexFile: string): string | undefined {
  const stats = statSync(indexFile, { throwIfNoEntry: false });
  return stats ? `${stats.ino}:${stats.size}:${stats.mtimeMs}` : undefined;
}

/**
 * Make git's index (the caller's GIT_INDEX_FILE) hold exactly the metadata's files and
 * symlinks, by name, byte for byte: ignored, removed or newly ignored paths leave it, and
 * no .gitignore inside the tracked path hides anything. Returns the metadata without
 * entries that vanished meanwhile, and the metadata files the index holds (path → blob);
 * refuses loudly anything git would not take.
 * `indexFile`: the index's path, when its contents may be remembered between commits.
 */
async function syncIndex(git: Git, metadata: Metadata, indexFile?: string): Promise<{ metadata: Metadata; metadataFiles: ReadonlyMap<string, string> }> {
  const wanted = metadata.entries.filter(inIndex).map((e) => e.path);
  const known = indexFile ? knownIndexes.get(indexFile) : undefined;
  // The index pacha left holds exactly these names: nothing to remove, nothing new.
  const unchanged = known !== undefined && known.stamp === indexStamp(indexFile!) && known.digest === pathsDigest(wanted);
  const indexed = unchanged ? undefined : await indexedPaths(git);
  const before = indexed ? new Set(indexed.modes.keys()) : new Set([...wanted, ...known!.metadata.keys()]);
  const keep = new Set(wanted);
  const stale = [...before].filter((p) => !keep.has(p) && !isMetadataPath(p));
  if (stale.length > 0) await git.bytes(['update-index', '--force-remove', '-z', '--stdin'], joinNul(stale));
  // --remove: a file deleted since the capture leaves the index instead of failing the commit.
  if (wanted.length > 0) await git.bytes(['update-index', '--add', '--remove', '-z', '--stdin'], joinNul(wanted));
  // Only paths new to the index can have been refused or have vanished on the way in.
  const added = metadata.entries.filter((e) => inIndex(e) && !before.has(e.path));
  const after = added.length > 0 ? await indexedPaths(git) : undefined;
  const vanished = new Set<string>();
  const problems: Array<{ path: string; reason: string }> = [];
  for (const entry of added) {
    const mode = after!.modes.get(entry.path);
    const expected = entry.type === 'symlink' ? ['120000'] : ['100644', '100755'];
    if (mode === undefined) {
      if (!existsSync(fsPath(path.join(git.workTree ?? '/', entry.path)))) vanished.add(entry.path);
      else problems.push({ path: entry.path, reason: 'git did not record it' });
    } else if (!expected.includes(mode)) {
      throw new OperationError('ECONCURRENT', `${path.join(metadata.location, entry.path)} changed type while it was being committed; try again`);
    }
  }
  if (indexFile) knownIndexes.delete(indexFile);
  if (problems.length > 0) throw new UntrackableError(metadata.location, problems);
  const metadataFilesBefore = indexed ? indexed.metadata : known!.metadata;
  return { metadata: vanished.size === 0 ? metadata : { ...metadata, entries: metadata.entries.filter((e) => !vanished.has(e.path)) }, metadataFiles: metadataFilesBefore };
}

/**
 * The tracked path as it is now, as a git tree (files staged in git's index — the caller's
 * GIT_INDEX_FILE — plus the metadata files, written as objects here: no process).
 * Returns the tree and the metadata it holds. `previousShards`: the shard count of the
 * commit this one follows (kept while it suits: metadata-files.ts shardCount).
 */
export async function writeSnapshotTree(
  git: Git,
  gitDir: string,
  captured: Metadata,
  options: { indexFile?: string; previousShards?: number | undefined } = {},
): Promise<{ tree: string; metadata: Metadata }> {
  const synced = await syncIndex(git, captured, options.indexFile);
  const shards = shardCount(synced.metadata.entries.length, options.previousShards);
  const metadata: Metadata = { ...synced.metadata, version: METADATA_VERSION, shards };
  const files = metadataFiles(metadata, shards);
  const written = new Map<string, string>();
  const lines: string[] = [];
  for (const file of files) {
    const id = objectId('blob', file.text);
    written.set(file.path, id);
    if (id === synced.metadataFiles.get(file.path)) continue; // the index holds it: its object is there
    await writeObject(gitDir, 'blob', Buffer.from(file.text));
    lines.push(`100644 ${id}\t${file.path}`);
  }
  // The index's metadata files no longer written (a shard emptied, another shard count, a version 2 file) leave it.
  for (const rel of synced.metadataFiles.keys()) if (!written.has(rel)) lines.push(`0 ${'0'.repeat(40)}\t${rel}`);
  if (lines.length > 0) await git.bytes(['update-index', '-z', '--index-info'], joinNul(lines));
  const tree = (await git.raw(['write-tree'])).trim(); // may rewrite the index (its cache-tree)
  const stamp = options.indexFile ? indexStamp(options.indexFile) : undefined;
  if (options.indexFile && stamp) knownIndexes.set(options.indexFile, { stamp, digest: pathsDigest(metadata.entries.filter(inIndex).map((e) => e.path)), metadata: written });
  return { tree, metadata };
}

export async function commitSnapshot(options: {
  git: Git;
  gitDir: string;
  metadata: Metadata;
  message?: string;
  /** Who made it: trailers after the message (provenance.ts). */
  provenance?: Provenance;
  /** Receives the tree written and the metadata it holds (the daemon keeps them: live.ts). */
  seen?: { tree?: string; metadata?: Metadata };
}): Promise<CommitResult | null> {
  const { git, gitDir } = options;
  const head = await revParse(git, BRANCH);
  const { tree, metadata } = await writeSnapshotTree(git, gitDir, options.metadata, {
    indexFile: path.join(gitDir, 'index'),
    previousShards: head ? await previousShards(git, head) : undefined,
  });
  if (options.seen) Object.assign(options.seen, { tree, metadata });

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
  const message = withTrailers(options.message ?? commitMessage(metadata.location, changes, head === undefined), options.provenance ?? {});
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
