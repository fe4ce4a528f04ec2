// The daemon's commit of a few changed paths (issue 14: cost per change, not per tree).
//
// After a full commit the store keeps the tracked path's last snapshot in memory: each
// entry's metadata line, its stat stamp (capture.ts statStamp) and, for files and symlinks,
// the mode and blob the index holds. A commit of the paths the watcher reported then reads
// only those (and, for a directory that is new or was replaced, what is below it), hashes
// the changed files itself (objects.ts), and runs one process, getfattr, for their extended
// attributes; blobs, the metadata shards it changed (metadata-files.ts), trees (only the
// changed directories' and their parents'), the commit and the branch are written here
// (objects.ts, refs.ts). git's index is left as the last
// full commit wrote it: the next full commit brings it up to date (commit.ts syncIndex).
//
// The result is the snapshot a full capture would give, byte for byte: same entries, same
// hard-link groups, same xattrs, same metadata text (test/store/live.test.ts compares them).
// Whatever this cannot do exactly it declines ('full'), and the store makes a full commit:
// a file above objects.SMALL_FILE, a name that is not plain UTF-8, more than MAX_ENTRIES
// entries to read, a new ignore rule, a branch or index another process moved.
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Accounts } from '../accounts.js';
import { byteOrder } from '../fs/byte-order.js';
import { encodeName, fsPath, splitNul } from '../fs/names.js';
import { TEMP_PREFIX } from '../fs/temp-name.js';
import { FAST_UPDATE_MAX_PACK_BYTES, fitsOnePatch } from '../master/fast-update.js';
import { captureBelow, captureEntry, inodeOf, linksOf, visitBelow, UntrackableError, type EntrySource } from './capture.js';
import { untrackableReason } from './trackable.js';
import { commitMessage, metadataChanges, type Change } from './changes.js';
import type { CommitResult } from './commit.js';
import type { Git } from './git.js';
import type { IgnoreMatcher } from './ignore.js';
import { isMetadataPath, METADATA_DIR, METADATA_PATH, METADATA_VERSION, SKIPPED_TYPES, type Metadata, type MetadataEntry } from './metadata.js';
import { METADATA_SHARDS_DIR, shardPath, shardPieces } from './metadata-files.js';
import { commitObject, objectId, SMALL_FILE, writeObject, type ObjectType } from './objects.js';
import type { PackObject } from './pack-file.js';
import { withTrailers, type Provenance } from './provenance.js';
import { readRef, updateRef } from './refs.js';
import { compareEntries, lowerBound, SnapshotEntries } from './snapshot-entries.js';
import type { Xattrs } from './xattrs.js';

/** More entries than this to read: a full commit is as cheap, and bounds argv and memory. */
export const MAX_ENTRIES = 1000;

const BRANCH = 'refs/heads/main';

export interface LiveSnapshot {
  location: string;
  head: string;
  tree: string;
  /** The index file as pacha left it (ino:size:mtime): another writer's change is seen. */
  indexStamp: string | undefined;
  /** The path's own ignore patterns and the store's settings generation it was taken under. */
  ignoreKey: string;
  xattrs: boolean;
  /**
   * Per path: the entry as serialized (JSON), in its metadata shard's block, so a commit
   * re-encodes only the shards it changed; its stat stamp; for files and symlinks, the
   * "mode blob" the index holds. The paths in the metadata's order.
   */
  entries: SnapshotEntries;
  /** The blob of the metadata's header (a live commit never changes it), and of each shard that holds an entry. */
  headerBlob: string;
  shardBlobs: Map<number, string>;
  skipped: Set<string>;
  /** Directory → the id of its git tree ('' when it holds no file), for the directories not changed since. */
  trees: Map<string, string>;
  /** When a full capture last confirmed it (Date.now()). */
  confirmedAt: number;
}

/** A reconcile reads everything (a full commit) at least this often, whatever the snapshot says. */
export const FULL_RECONCILE_MS = 60 * 60_000;

export function indexFileStamp(gitDir: string): string | undefined {
  const stats = statSync(path.join(gitDir, 'index'), { throwIfNoEntry: false });
  return stats ? `${stats.ino}:${stats.size}:${stats.mtimeMs}` : undefined;
}

/** An entry's JSON with its keys in the order a full capture writes them. Pure. */
export function entryLine(e: MetadataEntry): string {
  const ordered: MetadataEntry = { path: e.path, type: e.type, mode: e.mode, user: e.user, group: e.group };
  if (e.target !== undefined) ordered.target = e.target;
  if (e.size !== undefined) ordered.size = e.size;
  if (e.device !== undefined) ordered.device = e.device;
  if (e.hardlink !== undefined) ordered.hardlink = e.hardlink;
  if (e.xattrs !== undefined) ordered.xattrs = e.xattrs;
  return JSON.stringify(ordered);
}

/** The snapshot a full commit left, to commit the next changes from. */
export async function seedLive(options: {
  git: Git;
  gitDir: string;
  /** As the full commit wrote it (its shard count set). */
  metadata: Metadata;
  stamps: Map<string, string>;
  head: string;
  tree: string;
  ignoreKey: string;
}): Promise<LiveSnapshot> {
  const { metadata } = options;
  if (metadata.shards === undefined) throw new Error(`the metadata of ${metadata.location} was not written in shards`);
  const [indexed, subtrees] = await Promise.all([options.git.bytes(['ls-files', '-s', '-z']), options.git.bytes(['ls-tree', '-r', '-d', '-z', options.tree])]);
  const { entries } = metadata;
  const kept = new SnapshotEntries(
    entries.map((e) => e.path),
    entries.map(entryLine),
    options.stamps,
    metadata.shards,
  );
  let headerBlob: string | undefined;
  const shardBlobs = new Map<number, string>();
  const shardOfFile = new Map(Array.from({ length: metadata.shards }, (_, shard) => [shardPath(shard, metadata.shards!), shard]));
  for (const line of splitNul(indexed)) {
    const tab = line.indexOf('\t');
    const rel = line.slice(tab + 1);
    const value = line.slice(0, line.lastIndexOf(' ', tab));
    const blob = value.slice(value.indexOf(' ') + 1);
    if (rel === METADATA_PATH) headerBlob = blob;
    else if (shardOfFile.has(rel)) shardBlobs.set(shardOfFile.get(rel)!, blob);
    else kept.setIndex(rel, value);
  }
  if (headerBlob === undefined) throw new Error(`the index of ${metadata.location} holds no ${METADATA_PATH}`);
  return {
    location: metadata.location,
    head: options.head,
    tree: options.tree,
    indexStamp: indexFileStamp(options.gitDir),
    ignoreKey: options.ignoreKey,
    xattrs: metadata.xattrs !== false,
    entries: kept,
    headerBlob,
    shardBlobs,
    skipped: new Set(entries.filter((e) => SKIPPED_TYPES.has(e.type)).map((e) => e.path)),
    trees: treesOf(splitNul(subtrees)),
    confirmedAt: Date.now(),
  };
}

/**
 * Directory → tree id from `git ls-tree -r -d -z` of the commit's tree: the first commit of
 * changed paths hashes only their directories again, not every directory of the tree (one
 * process per full commit instead of a tree object per directory at the next edit). The
 * metadata's own directories are the root's business (writeTrees). Pure.
 */
export function treesOf(lines: readonly string[]): Map<string, string> {
  const trees = new Map<string, string>();
  for (const line of lines) {
    const tab = line.indexOf('\t');
    const rel = line.slice(tab + 1);
    if (rel === METADATA_DIR || isMetadataPath(rel)) continue;
    trees.set(rel, line.slice(line.lastIndexOf(' ', tab) + 1, tab));
  }
  return trees;
}

/** Whether the snapshot still describes the git dir: nobody else moved the branch or wrote the index. */
export async function liveIsCurrent(live: LiveSnapshot, gitDir: string, ignoreKey: string): Promise<boolean> {
  return live.ignoreKey === ignoreKey && readRef(gitDir, BRANCH) === live.head && indexFileStamp(gitDir) === live.indexStamp;
}

class Decline extends Error {}

/** A change the snapshot cannot take exactly: the caller makes a full commit instead. */
function decline(why: string): never {
  throw new Decline(why);
}

/** Paths to read again for `events` (paths relative to the location): each, and its parent (a directory's own chmod is reported under its name inside it). */
export function pathsToRead(events: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const rel of events) {
    if (rel === '' || rel === '.') {
      out.add('.');
      continue;
    }
    out.add(rel);
    const slash = rel.lastIndexOf('/');
    out.add(slash === -1 ? '.' : rel.slice(0, slash));
  }
  return [...out].sort(compareEntries);
}

interface Touched {
  before: string | undefined;
  /** `before` parsed, once (never changed: `after` is the entry to change). */
  beforeEntry: MetadataEntry | undefined;
  beforeStamp: string | undefined;
  after: MetadataEntry | undefined;
}

/** Writes one object into the repository and returns its id. */
type StoreObject = (type: ObjectType, content: Buffer | readonly Buffer[]) => Promise<string>;

/** A live commit and every object it wrote that its parent lacks (a pack of them is the push of it: pack-file.ts). */
export interface WrittenCommit {
  parent: string;
  sha: string;
  objects: PackObject[];
}

export interface LiveCommitResult extends CommitResult {
  /** Absent when the files' contents were too big to keep for a push in one round trip, or the change for one patch (fitsOnePatch). */
  written?: WrittenCommit;
}

/**
 * Commit the changes under `events` (relative paths) onto the live snapshot. null: nothing
 * to commit; 'full': this cannot be done exactly here, make a full commit (the snapshot is
 * then stale: drop it). Mutates `live` (drop it on any error).
 */
export async function commitLive(options: {
  live: LiveSnapshot;
  gitDir: string;
  events: Iterable<string>;
  accounts: Accounts;
  ignored: IgnoreMatcher;
  provenance: Provenance;
  email: string;
  /** The extended attributes of these absolute paths; undefined when getfattr is not installed (xattr-reader.ts). */
  readXattrs: (paths: readonly string[]) => Promise<Map<string, Xattrs> | undefined>;
}): Promise<LiveCommitResult | null | { full: string }> {
  try {
    return await commitLiveOrDecline(options);
  } catch (error) {
    if (error instanceof Decline) return { full: error.message };
    throw error;
  }
}

/**
 * What differs between the tracked path now and the snapshot, by lstat alone (a walk, no
 * process): paths whose stat stamp changed (content and mtime, a chmod, chown, xattr or
 * link-count change all move ctime), appeared or left. The periodic reconcile commits these
 * with commitLive; 'too-many' when a full commit is as cheap.
 */
export async function differingPaths(live: LiveSnapshot, accounts: Accounts, ignored: IgnoreMatcher): Promise<string[] | 'too-many'> {
  const top = new Map<string, string>();
  if (!captureEntry({ root: live.location, accounts, ignored, stamps: top }, '.')) return 'too-many';
  const topStamp = top.get('.');
  const out: string[] = topStamp !== undefined && live.entries.hasStamp('.', topStamp) ? [] : ['.'];
  // Compared as the walk goes (nothing of the tree is kept); the walk stamps ignored entries
  // too, but hands over only what it records. Entries of the snapshot it never met left.
  let met = 1;
  let tooMany = false;
  const source = { root: live.location, accounts, ignored };
  // An entry whose stamp is the snapshot's was recorded or left out as it is now (the ignore
  // key is the snapshot's: liveIsCurrent), so the walk does not ask the ignore rules again.
  const known = (rel: string, stamp: string) => (live.entries.hasStamp(rel, stamp) ? live.entries.has(rel) : undefined);
  await visitBelow(
    source,
    '.',
    (entry, stamp) => {
      if (live.entries.has(entry.path)) met++;
      if (!live.entries.hasStamp(entry.path, stamp) && out.push(entry.path) > MAX_ENTRIES) tooMany = true;
    },
    known,
  );
  if (tooMany) return 'too-many';
  if (met < live.entries.size) {
    // Something left: walk again for the names (rare: the watcher reports most removals).
    const present = new Set<string>(['.']);
    await visitBelow(source, '.', (entry) => present.add(entry.path));
    for (const rel of live.entries.order) if (!present.has(rel)) out.push(rel);
  }
  return out.length > MAX_ENTRIES ? 'too-many' : out;
}

async function commitLiveOrDecline(options: Parameters<typeof commitLive>[0]): Promise<LiveCommitResult | null> {
  const { live, gitDir, ignored } = options;
  const root = live.location;
  const { entries } = live;
  const source: EntrySource = { root, accounts: options.accounts, ignored, stamps: entries };
  const touched = new Map<string, Touched>();
  let read = 0;

  const parse = (rel: string): MetadataEntry | undefined => {
    const line = entries.line(rel);
    return line === undefined ? undefined : (JSON.parse(line) as MetadataEntry);
  };
  const touch = (rel: string): Touched => {
    let t = touched.get(rel);
    if (!t) {
      const before = entries.line(rel);
      const parsed = (): MetadataEntry | undefined => (before === undefined ? undefined : (JSON.parse(before) as MetadataEntry));
      t = { before, beforeEntry: parsed(), beforeStamp: entries.stamp(rel), after: parsed() };
      touched.set(rel, t);
    }
    return t;
  };
  const remove = (rel: string, withSelf: boolean): void => {
    entries.remove(rel, withSelf, (gone) => {
      touch(gone).after = undefined;
    });
  };
  const fresh = new Set<string>();
  const put = (entry: MetadataEntry): void => {
    fresh.add(entry.path);
    touch(entry.path).after = entry;
    entries.setLine(entry.path, entryLine(entry));
  };
  const ancestorIgnored = (rel: string): boolean => {
    for (let i = rel.indexOf('/'); i !== -1; i = rel.indexOf('/', i + 1)) if (ignored(rel.slice(0, i), true)) return true;
    return false;
  };

  const untrackable: Array<{ path: string; reason: string }> = [];
  for (const rel of pathsToRead(options.events)) {
    if (rel.startsWith('../') || rel === '..' || path.isAbsolute(rel)) decline(`an event outside ${root}`);
    // fs.watch decodes names as UTF-8: another name arrives mangled (U+FFFD) and would look removed.
    if (typeof fsPath(rel) !== 'string' || rel.includes('\uFFFD')) decline('a name that is not plain UTF-8');
    if (rel !== '.' && (rel.slice(rel.lastIndexOf('/') + 1).startsWith(TEMP_PREFIX) || ancestorIgnored(rel))) continue;
    const oldStamp = touch(rel).beforeStamp;
    const captured = captureEntry(source, rel);
    read++;
    if (!captured) {
      if (rel === '.') decline(`${root} is gone`);
      remove(rel, true);
      continue;
    }
    if (rel !== '.' && ignored(rel, captured.isDir)) {
      remove(rel, true);
      continue;
    }
    const why = rel === '.' ? undefined : untrackableReason(rel, false);
    if (why) {
      untrackable.push({ path: rel, reason: why });
      continue;
    }
    const parent = rel === '.' ? undefined : rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '.';
    if (parent !== undefined && !entries.has(parent)) decline(`${rel}: its directory is not in the snapshot`);
    const wasDirectory = parse(rel)?.type === 'directory';
    if (captured.isDir) {
      const sameDirectory = wasDirectory && oldStamp !== undefined && inodeOf(oldStamp) === inodeOf(entries.stamp(rel)!);
      if (!sameDirectory) {
        // New, moved in, or replaced: what is below it was never reported one by one.
        remove(rel, false);
        const below = await captureBelow(source, rel, MAX_ENTRIES - read);
        if (below === 'too-many') decline(`more than ${MAX_ENTRIES} entries under ${rel}`);
        read += below.length;
        put(captured.entry);
        for (const entry of below) put(entry);
        continue;
      }
    } else if (wasDirectory) {
      remove(rel, false);
    }
    put(captured.entry);
  }
  if (untrackable.length > 0) throw new UntrackableError(root, untrackable);
  if (read > MAX_ENTRIES) decline(`more than ${MAX_ENTRIES} entries to read`);

  // Hard links: a touched file's group (old or new inode) is regrouped; every member is re-read.
  const linkKeys = new Set<string>();
  for (const [rel, t] of touched) {
    const before = t.beforeEntry;
    const now = t.after?.type === 'file' ? entries.stamp(rel) : undefined;
    const then = before?.type === 'file' ? t.beforeStamp : undefined;
    for (const stamp of [now, then]) {
      if (stamp !== undefined && (linksOf(stamp) > 1 || before?.hardlink !== undefined)) linkKeys.add(inodeOf(stamp));
    }
  }
  if (linkKeys.size > 0) {
    // The other names of a touched inode share its mode, owner and content: read them too.
    const reread = (rel: string): void => {
      if (fresh.has(rel)) return;
      const captured = captureEntry(source, rel);
      if (captured && !captured.isDir) put(captured.entry);
      else remove(rel, true);
    };
    regroup(live, linkKeys, reread, touch, parse);
  }

  // Extended attributes of everything touched (a hard link's live on the first of its group).
  const present = [...touched].filter(([, t]) => t.after !== undefined).map(([rel]) => rel);
  const xattrs = await options.readXattrs(present.map((rel) => (rel === '.' ? root : path.join(root, rel))));
  if (!xattrs && live.xattrs) decline('getfattr is gone');
  for (const rel of present) {
    const t = touched.get(rel)!;
    const entry = t.after!;
    delete entry.xattrs;
    if (xattrs && entry.hardlink === undefined) {
      const found = xattrs.get(rel === '.' ? root : path.join(root, rel));
      if (found && Object.keys(found).length > 0) entry.xattrs = found;
    }
    entries.setLine(rel, entryLine(entry));
  }

  // Content: hash each touched file and symlink; compare with the index.
  let indexChanged = false;
  const blobs: Array<{ content: Buffer }> = [];
  const contentChanges: Change[] = [];
  let replacedBytes = 0; // the contents this commit removes or replaces: its patch on the master carries them too
  const added: Array<{ rel: string; blob: string }> = [];
  const deleted: Array<{ rel: string; blob: string }> = [];
  let metadataChanged = false;
  for (const [rel, t] of touched) {
    const after = entries.line(rel);
    if (after !== t.before) metadataChanged = true;
    const entry = t.after;
    let next: string | undefined;
    if (entry?.type === 'file' || entry?.type === 'symlink') {
      const absolute = path.join(root, rel);
      let content: Buffer;
      try {
        if (entry.type === 'symlink') content = readlinkSync(absolute, { encoding: 'buffer' });
        else {
          if ((entry.size ?? 0) > SMALL_FILE) decline(`${rel} is bigger than ${SMALL_FILE} bytes`);
          content = readFileSync(absolute);
          if (content.length > SMALL_FILE) decline(`${rel} is bigger than ${SMALL_FILE} bytes`);
        }
      } catch (error) {
        if (error instanceof Decline) throw error;
        decline(`${rel} changed while it was read (${(error as Error).message})`);
      }
      const mode = entry.type === 'symlink' ? '120000' : entry.mode & 0o100 ? '100755' : '100644';
      const blob = objectId('blob', content);
      next = `${mode} ${blob}`;
      if (next !== entries.index(rel)) blobs.push({ content });
    }
    const previous = entries.index(rel);
    if (next === previous) continue;
    indexChanged = true;
    // A mode changed alone carries no content in the patch; anything else carries the old content out.
    const sameContent = next !== undefined && previous !== undefined && next.slice(next.indexOf(' ')) === previous.slice(previous.indexOf(' '));
    if (previous !== undefined && !sameContent) replacedBytes += t.beforeEntry?.size ?? 0;
    if (next === undefined) {
      entries.setIndex(rel, undefined);
      deleted.push({ rel, blob: previous!.slice(previous!.indexOf(' ') + 1) });
      continue;
    }
    entries.setIndex(rel, next);
    if (previous === undefined) added.push({ rel, blob: next.slice(next.indexOf(' ') + 1) });
    else contentChanges.push({ kind: previous.startsWith('120000') !== next.startsWith('120000') ? 'T' : 'M', path: rel });
  }
  for (const [rel, t] of touched) {
    if (t.after && SKIPPED_TYPES.has(t.after.type)) live.skipped.add(rel);
    else live.skipped.delete(rel);
  }
  if (!metadataChanged && !indexChanged) return null;

  // Exact renames (same blob), as git's rename detection pairs them first.
  const unpaired = [...deleted];
  for (const a of added) {
    const i = unpaired.findIndex((d) => d.blob === a.blob);
    if (i === -1) contentChanges.push({ kind: 'A', path: a.rel });
    else contentChanges.push({ kind: 'R', path: a.rel, detail: unpaired.splice(i, 1)[0]!.rel });
  }
  for (const d of unpaired) contentChanges.push({ kind: 'D', path: d.rel });
  contentChanges.sort((a, b) => byteOrder(a.path, b.path));

  // Every object this commit writes: all it adds to its parent's (what a master holding the parent lacks), perhaps a few the parent has.
  // The files' contents are kept only while they could go in one round trip (the pack, and the patch the master makes of the change); the shards' are the snapshot's own blocks.
  const written = new Map<string, PackObject>();
  const addedBytes = blobs.reduce((n, b) => n + b.content.length, 0);
  const keep = addedBytes <= FAST_UPDATE_MAX_PACK_BYTES && fitsOnePatch(replacedBytes + addedBytes);
  const store: StoreObject = async (type, content) => {
    const id = await writeObject(gitDir, type, content);
    if (keep) written.set(id, { type, content, id });
    return id;
  };
  for (const { content } of blobs) await store('blob', content);
  for (const rel of touched.keys()) forgetTrees(live, rel);
  // The metadata shards this commit changed, written whole (a few hundred entries each).
  for (const { shard, entries: held, block } of live.entries.changedShards()) {
    if (held === 0) live.shardBlobs.delete(shard);
    else live.shardBlobs.set(shard, await store('blob', shardPieces(block)));
  }
  const tree = await writeTrees(live, store);
  if (tree === live.tree) return null;

  const listed = new Set(contentChanges.map((c) => c.path));
  const before: Metadata = { version: METADATA_VERSION, location: root, host: '', single: false, entries: [] };
  const after: Metadata = { ...before, entries: [] };
  for (const [, t] of touched) {
    if (t.beforeEntry) before.entries.push(t.beforeEntry);
    if (t.after) after.entries.push(t.after);
  }
  let changes = [...contentChanges, ...metadataChanges(before, after, listed)];
  if (changes.length === 0) changes = [{ kind: 'P', path: '.', detail: 'metadata' }];
  const message = withTrailers(commitMessage(root, changes, false), options.provenance);
  const commit = commitObject({ tree, parent: live.head, name: 'pacha', email: options.email, message });
  const sha = await store('commit', commit);
  updateRef(gitDir, BRANCH, sha, live.head, { who: `pacha <${options.email}>`, message: 'pacha commit' });
  const parent = live.head;
  live.head = sha;
  live.tree = tree;
  return {
    sha,
    changes,
    changed: changes.map((c) => c.path),
    message,
    skipped: [...live.skipped],
    xattrs: live.xattrs,
    ...(keep ? { written: { parent, sha, objects: [...written.values()] } } : {}),
  };
}

/** A changed path: its directory's tree and every ancestor's must be written again. */
function forgetTrees(live: LiveSnapshot, rel: string): void {
  live.trees.delete(rel);
  for (let i = rel.lastIndexOf('/'); i !== -1; i = rel.lastIndexOf('/', i - 1)) live.trees.delete(rel.slice(0, i));
}

interface TreeItem {
  key: Buffer;
  line: Buffer;
}

function treeItem(mode: string, name: string, id: string, isTree: boolean): TreeItem {
  const bytes = encodeName(name);
  return { key: isTree ? Buffer.concat([bytes, Buffer.from('/')]) : bytes, line: Buffer.concat([Buffer.from(`${mode} `), bytes, Buffer.of(0), Buffer.from(id, 'hex')]) };
}

async function treeObject(store: StoreObject, items: TreeItem[]): Promise<string> {
  // git orders a tree's entries by name, a subtree's name as if it ended in '/'.
  items.sort((a, b) => Buffer.compare(a.key, b.key));
  return store('tree', Buffer.concat(items.map((i) => i.line)));
}

/**
 * The git tree of the snapshot, as `git write-tree` of an index holding exactly the files
 * and symlinks (live.entries.index) and the metadata files would give; only directories
 * changed since the last commit are hashed again.
 */
async function writeTrees(live: LiveSnapshot, store: StoreObject): Promise<string> {
  const { order } = live.entries;
  const treeOf = async (dir: string): Promise<string> => {
    const known = dir === '.' ? undefined : live.trees.get(dir);
    if (known !== undefined) return known;
    const prefix = dir === '.' ? '' : `${dir}/`;
    const items: TreeItem[] = [];
    let i = dir === '.' ? 1 : lowerBound(order, prefix);
    while (i < order.length && order[i]!.startsWith(prefix)) {
      const rel = order[i]!;
      const rest = rel.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash !== -1) {
        // Inside a subdirectory met earlier (its name sorts before a sibling's with '.' or '-'): skip it whole.
        i = lowerBound(order, `${prefix}${rest.slice(0, slash)}0`);
        continue;
      }
      const indexed = live.entries.index(rel);
      if (indexed !== undefined) {
        const space = indexed.indexOf(' ');
        items.push(treeItem(indexed.slice(0, space), rest, indexed.slice(space + 1), false));
      } else {
        const subtree = await treeOf(rel);
        if (subtree !== '') items.push(treeItem('40000', rest, subtree, true));
      }
      i++;
    }
    if (dir === '.') items.push(treeItem('40000', METADATA_DIR, await metadataTree(live, store), true));
    const id = items.length === 0 ? '' : await treeObject(store, items);
    if (dir !== '.') live.trees.set(dir, id);
    return id;
  };
  return treeOf('.');
}

/** The `.pacha` tree: the metadata's header and the directory of its shards (metadata-files.ts). */
async function metadataTree(live: LiveSnapshot, store: StoreObject): Promise<string> {
  const shards = [...live.shardBlobs].map(([shard, blob]) => treeItem('100644', path.basename(shardPath(shard, live.entries.shards)), blob, false));
  const items = [treeItem('100644', path.basename(METADATA_PATH), live.headerBlob, false)];
  if (shards.length > 0) items.push(treeItem('40000', path.basename(METADATA_SHARDS_DIR), await treeObject(store, shards), true));
  return treeObject(store, items);
}

/** Recompute the hard-link groups with these inode keys: the first member in byte order leads. */
function regroup(
  live: LiveSnapshot,
  keys: Set<string>,
  reread: (rel: string) => void,
  touch: (rel: string) => Touched,
  parse: (rel: string) => MetadataEntry | undefined,
): void {
  const members = (): Map<string, string[]> => {
    const groups = new Map<string, string[]>();
    for (const rel of live.entries.order) {
      const stamp = live.entries.stamp(rel);
      const key = stamp === undefined ? undefined : inodeOf(stamp);
      if (key === undefined || !keys.has(key)) continue;
      const group = groups.get(key);
      if (group) group.push(rel);
      else groups.set(key, [rel]);
    }
    return groups;
  };
  for (const group of members().values()) for (const rel of group) reread(rel);
  for (const group of [...members().values()]) {
    const files = group.filter((rel) => parse(rel)?.type === 'file').sort(byteOrder);
    const [leader, ...others] = files;
    for (const rel of files) {
      const t = touch(rel);
      const entry = t.after ?? parse(rel)!;
      if (rel === leader || others.length === 0) delete entry.hardlink;
      else entry.hardlink = leader!;
      t.after = entry;
      live.entries.setLine(rel, entryLine(entry));
    }
  }
}
