// Capture the metadata of a tracked path: every entry's type, full mode, owner, group,
// symlink target, hard-link group and device numbers. Reads only (lstat, readlink);
// follows no symlink. Names are read as bytes (names.ts), so none is lost or mangled.
// Entries that the ignore rules match are left out, and directories among them are not
// entered. Entries git cannot hold are refused here, before anything is committed.
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Accounts } from '../accounts.js';
import { errnoCode, OperationError } from '../errors.js';
import { byteOrder } from '../fs/byte-order.js';
import { entryType } from '../fs/entry.js';
import { isPachaTemp } from '../fs/temp-name.js';
import type { IgnoreMatcher } from './ignore.js';
import { METADATA_VERSION, type Metadata, type MetadataEntry } from './metadata.js';
import { decodeName, fsPath } from '../fs/names.js';
import { readXattrs } from './xattrs.js';
import { untrackableReason } from './trackable.js';

/** Linux's major/minor of a dev_t (glibc's gnu_dev_major/minor). */
export function deviceNumbers(rdev: number): { major: number; minor: number } {
  const dev = BigInt(rdev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

export class UntrackableError extends OperationError {
  override name = 'UntrackableError';
  constructor(location: string, entries: Array<{ path: string; reason: string }>) {
    const shown = entries.slice(0, 10).map((e) => `${path.join(location, e.path)}: ${e.reason}`);
    const more = entries.length > 10 ? `\n  … and ${entries.length - 10} more` : '';
    super('EUNTRACKABLE', `${location} holds entries pacha cannot restore exactly; nothing was recorded:\n  ${shown.join('\n  ')}${more}`, {
      hint:
        `leave them out with an ignore pattern, e.g. \`pacha watch ${location} --ignore ${JSON.stringify(entries[0]?.path.split('/').pop() ?? '')}\` ` +
        '(or pacha.ignore), then try again',
      details: { location, entries: entries.map((e) => e.path) },
    });
  }
}

function captureError(absolute: string, error: unknown): OperationError {
  return new OperationError('ECAPTURE', `cannot read ${absolute}: ${(error as Error).message}`, {
    hint: 'pacha needs to read every entry of a tracked path; fix the permissions or leave the entry out with an ignore pattern',
    cause: error,
    details: { path: absolute, errno: errnoCode(error) },
  });
}

/** Receives each entry's stat stamp (statStamp) as it is read. */
export interface StampSink {
  set(rel: string, stamp: string): unknown;
}

interface Walk {
  root: string;
  accounts: Accounts;
  ignored: IgnoreMatcher;
  entries: MetadataEntry[];
  untrackable: Array<{ path: string; reason: string }>;
  /** dev:ino of files with more than one link → their paths. */
  links: Map<string, string[]>;
  single: boolean;
  /** When given: every entry's stat stamp (statStamp), for the daemon's in-memory snapshot (live.ts). */
  stamps?: StampSink | undefined;
  /** When given, each recorded entry goes here instead of into `entries` (nothing is kept). */
  visit?: (entry: MetadataEntry) => void;
  /** Walks stop (and the capture answers 'too-many') past this many entries. */
  limit?: number;
  /** What an earlier capture decided for an entry with this very stamp (KnownEntry). */
  known?: KnownEntry;
}

/**
 * What an earlier capture under the same ignore rules decided for the entry at `rel` with
 * exactly this stat stamp: true recorded, false left out; undefined when it does not know.
 * The rules decide by path and type, and a stamp names the inode (so the type), so the
 * decision stands and the matcher is not asked again: on an unchanged 10k-file tree that was
 * a sixth of the daemon's periodic reconcile walk (issue 14, idle CPU).
 */
export type KnownEntry = (rel: string, stamp: string) => boolean | undefined;

/**
 * What identifies an entry's state without reading it: device, inode and birth time first
 * (inodeOf), then size, mtime and ctime (a chmod, chown, xattr or link-count change moves
 * ctime) and the link count (linksOf). Seven doubles as one flat 56-character string (latin1
 * of their bytes): the daemon keeps one per entry (live.ts), and a string built by
 * `${a}:${b}:…` is a tree of ~11 heap objects (about 350 bytes against 72).
 */
export function statStamp(stats: Stats): string {
  const fields = STAMP_FIELDS;
  fields[0] = stats.dev;
  fields[1] = stats.ino;
  fields[2] = stats.birthtimeMs;
  fields[3] = stats.size;
  fields[4] = stats.mtimeMs;
  fields[5] = stats.ctimeMs;
  fields[6] = stats.nlink;
  return STAMP_BYTES.toString('latin1');
}
const STAMP_FIELDS = new Float64Array(7);
const STAMP_BYTES = Buffer.from(STAMP_FIELDS.buffer);

/**
 * The device, inode and birth time of a stamp: one inode's life, what a hard link group
 * shares. The number alone is not enough: ext4 gives a freed inode number to the next entry
 * made, so a directory removed and made again (`rm -rf d && mkdir d`) often has the old one's
 * number, and live.ts would keep the old one's entries below it. The birth time (statx; 0
 * where the filesystem keeps none) tells them apart. Pure.
 */
export function inodeOf(stamp: string): string {
  return stamp.slice(0, 24);
}

/** The link count a stamp recorded. Pure. */
export function linksOf(stamp: string): number {
  STAMP_BYTES.write(stamp, 'latin1');
  return STAMP_FIELDS[6]!;
}

function entryFor(
  walk: Walk,
  relative: string,
  absolute: string,
): { entry: MetadataEntry; isDir: boolean; stamp: string | undefined; linkKey: string | undefined } | undefined {
  let stats: Stats | undefined;
  try {
    stats = lstatSync(fsPath(absolute), { throwIfNoEntry: false });
  } catch (error) {
    // A directory on the way is now a file: the entry is gone, as for ENOENT (a path the
    // watcher reported in a directory since replaced by a file, live.ts; or a walk's race).
    if (errnoCode(error) === 'ENOTDIR') return undefined;
    throw captureError(absolute, error);
  }
  // Vanished between readdir and lstat (an editor's temp file): the next scan sees the truth.
  if (!stats) return undefined;
  const type = entryType(stats);
  const { accounts } = walk;
  const entry: MetadataEntry = {
    path: relative,
    type,
    mode: stats.mode & 0o7777,
    user: { id: stats.uid, ...(accounts.users.byId.has(stats.uid) ? { name: accounts.users.byId.get(stats.uid)! } : {}) },
    group: { id: stats.gid, ...(accounts.groups.byId.has(stats.gid) ? { name: accounts.groups.byId.get(stats.gid)! } : {}) },
  };
  if (type === 'symlink') {
    try {
      entry.target = decodeName(readlinkSync(fsPath(absolute), { encoding: 'buffer' }));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw captureError(absolute, error);
    }
  }
  if (type === 'file') entry.size = stats.size;
  if (type === 'char' || type === 'block') entry.device = deviceNumbers(stats.rdev);
  const stamp = walk.stamps || walk.known ? statStamp(stats) : undefined;
  if (stamp !== undefined) walk.stamps?.set(relative, stamp);
  // A file with other names: its hard-link group (linkGroups) once the walk records it.
  const linkKey = type === 'file' && stats.nlink > 1 ? `${stats.dev}:${stats.ino}` : undefined;
  return { entry, isDir: type === 'directory', stamp, linkKey };
}

/**
 * Synchronous lstat per entry, yielding to the event loop after each directory: a promise
 * per lstat cost the daemon ~220 ms of CPU per scan of 11,111 entries, this ~45 ms
 * (bench/footprint.bench.ts), and watcher events still get through between directories.
 */
async function walkDirectory(walk: Walk, relative: string): Promise<void> {
  const absolute = relative === '.' ? walk.root : path.join(walk.root, relative);
  let names: string[];
  try {
    names = readdirSync(fsPath(absolute), { encoding: 'buffer' }).map(decodeName);
  } catch (error) {
    const code = errnoCode(error);
    if ((code === 'ENOENT' || code === 'ENOTDIR') && relative !== '.') return; // removed meanwhile
    throw captureError(absolute, error);
  }
  const directories: string[] = [];
  // A name from readdir has no '/' and is never '.' or '..': joined by hand, not path.join
  // (whose normalize was a seventh of a reconcile walk's CPU).
  const prefix = absolute.endsWith('/') ? absolute : `${absolute}/`;
  for (const name of names) {
    if (isPachaTemp(name)) continue;
    const rel = relative === '.' ? name : `${relative}/${name}`;
    const result = entryFor(walk, rel, prefix + name);
    if (!result) continue;
    const known = result.stamp === undefined ? undefined : walk.known?.(rel, result.stamp);
    if (known === false) continue;
    if (known === undefined) {
      if (walk.ignored(rel, result.isDir)) continue;
      const why = untrackableReason(rel, false);
      if (why) {
        walk.untrackable.push({ path: rel, reason: why });
        continue;
      }
    }
    if (walk.visit) walk.visit(result.entry);
    else walk.entries.push(result.entry);
    // Only recorded names form a group: an ignored name of the same inode must neither lead
    // it (a hardlink to an entry the metadata lacks) nor be looked up among the entries.
    if (result.linkKey !== undefined) {
      const group = walk.links.get(result.linkKey);
      if (group) group.push(rel);
      else walk.links.set(result.linkKey, [rel]);
    }
    if (walk.limit !== undefined && walk.entries.length > walk.limit) return;
    if (result.isDir) directories.push(rel);
  }
  await new Promise<void>((resolve) => setImmediate(resolve));
  for (const directory of directories) await walkDirectory(walk, directory);
}

/** Where one capture of a few entries (live.ts) reads from, and where each entry's stat stamp goes. */
export interface EntrySource {
  root: string;
  accounts: Accounts;
  ignored: IgnoreMatcher;
  stamps: StampSink;
}

function walkOf(source: EntrySource, limit?: number): Walk {
  return { root: source.root, accounts: source.accounts, ignored: source.ignored, entries: [], untrackable: [], links: new Map(), single: false, stamps: source.stamps, ...(limit === undefined ? {} : { limit }) };
}

/** One entry of a tracked directory, as a full capture would record it (no hard link, no xattrs); undefined when gone. */
export function captureEntry(source: EntrySource, rel: string): { entry: MetadataEntry; isDir: boolean } | undefined {
  const walk = walkOf(source);
  return entryFor(walk, rel, rel === '.' ? source.root : path.join(source.root, rel));
}

/** Every entry below directory `rel` (ignore rules applied), or 'too-many' past `limit` entries. */
export async function captureBelow(source: EntrySource, rel: string, limit: number): Promise<MetadataEntry[] | 'too-many'> {
  const walk = walkOf(source, limit);
  await walkDirectory(walk, rel);
  if (walk.entries.length > limit) return 'too-many';
  if (walk.untrackable.length > 0) throw new UntrackableError(source.root, walk.untrackable);
  return walk.entries;
}

/**
 * Every entry below directory `rel` that captureBelow would record, each handed to `visit`
 * with its stat stamp as it is read; nothing is kept (the daemon's periodic reconcile of a
 * big tree compares stamps without holding a second copy of the tree in memory).
 */
export async function visitBelow(
  source: Omit<EntrySource, 'stamps'>,
  rel: string,
  visit: (entry: MetadataEntry, stamp: string) => void,
  known?: KnownEntry,
): Promise<void> {
  let stamp = '';
  const walk = walkOf({ ...source, stamps: new Map() });
  walk.stamps = { set: (_rel: string, value: string) => (stamp = value) };
  walk.visit = (entry) => visit(entry, stamp);
  if (known) walk.known = known;
  await walkDirectory(walk, rel);
  if (walk.untrackable.length > 0) throw new UntrackableError(source.root, walk.untrackable);
}

/** Hard links inside the tracked path: every member but the first (byte order) names the first. */
function linkGroups(entries: MetadataEntry[], links: Map<string, string[]>): void {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  for (const members of links.values()) {
    if (members.length < 2) continue;
    const [leader, ...others] = [...members].sort(byteOrder);
    for (const other of others) byPath.get(other)!.hardlink = leader!;
  }
}

/** The metadata of a tracked directory, or of one file when `single`. */
export async function captureMetadata(options: {
  location: string;
  single: boolean;
  host: string;
  accounts: Accounts;
  ignored?: IgnoreMatcher;
  ignore?: readonly string[];
  /** Filled with every entry's stat stamp (statStamp). */
  stamps?: Map<string, string>;
}): Promise<Metadata> {
  const { location, single, host, accounts } = options;
  const walk: Walk = {
    root: location,
    accounts,
    ignored: options.ignored ?? (() => false),
    entries: [],
    untrackable: [],
    links: new Map(),
    single,
    stamps: options.stamps,
  };
  const top = entryFor(walk, single ? path.basename(location) : '.', location);
  if (!top) throw Object.assign(new Error(`ENOENT: no such file or directory, lstat '${location}'`), { code: 'ENOENT' });
  walk.entries.push(top.entry);
  const alone = single ? untrackableReason(top.entry.path, true) : undefined;
  if (alone) {
    // A file tracked before this rule (store.ts refuses it now): its commit would have held the metadata, not the file.
    throw new OperationError('EUNTRACKABLE', `${location}: ${alone}; nothing was recorded`, {
      hint: `rename the file and track it again, or track a directory above ${path.dirname(location)}; \`pacha unwatch ${location}\` stops this`,
      details: { location, entries: [top.entry.path] },
    });
  }
  if (!single) await walkDirectory(walk, '.');
  if (walk.untrackable.length > 0) throw new UntrackableError(location, walk.untrackable);
  walk.entries.sort((a, b) => (a.path === '.' ? -1 : b.path === '.' ? 1 : byteOrder(a.path, b.path)));
  if (!single) linkGroups(walk.entries, walk.links);
  const xattrs = await readXattrs(location, !single);
  if (xattrs) {
    for (const entry of walk.entries) {
      if (entry.hardlink !== undefined) continue; // the inode's attributes are on the first of its group
      const found = xattrs.get(single || entry.path === '.' ? location : path.join(location, entry.path));
      if (found && Object.keys(found).length > 0) entry.xattrs = found;
    }
  }
  return {
    version: METADATA_VERSION,
    location,
    host,
    single,
    ...(xattrs ? {} : { xattrs: false }),
    ...(options.ignore && options.ignore.length > 0 ? { ignore: [...options.ignore] } : {}),
    entries: walk.entries,
  };
}
