// How the metadata is laid out in a commit (format version 3): `.pacha/metadata.json` holds
// the header (version, location, host, …, and how many shards the entries were spread over),
// and the entries are in shard files `.pacha/metadata/<hex>.json`, each entry in the shard its
// path hashes to, one per line, by path in byte order.
//
// Why shards (issue 14: the cost of an edit must not grow with the tree): in one file, the
// metadata of a 50k-file tree is 6.4 MB, and every edit made a new 6.4 MB blob: hashed and
// deflated by the daemon, inflated, hashed and deflated again by the master's unpack, written
// out whole by its checkout (about 100 ms of every edit at 50k files, and a megabyte of loose
// object on the master per edit until gc). With shards an edit rewrites one shard of about 200
// entries, whatever the tree's size.
//
// The shard count is a writer's choice (16^k, so names are k hex digits); a reader needs only
// the files: it reads every shard there is and orders the entries. Versions 1 and 2 (every
// entry in `.pacha/metadata.json`) are still read. Pure.
import { encodeName } from '../fs/names.js';
import { METADATA_DIR, METADATA_PATH, METADATA_VERSION, type Metadata, type MetadataEntry } from './metadata.js';

/** The directory of the shard files (format version 3). */
export const METADATA_SHARDS_DIR = `${METADATA_DIR}/metadata`;

/**
 * The shard counts a writer chooses from: 16^k, so a shard's name is k hex digits (at least
 * one). No more than 256: the shards' directory is a tree every edit writes again (36 bytes
 * an entry, which do not compress: 9 KB at 256, it would be 150 KB at 4,096), so past 65k
 * entries the shards grow instead (at 500k, ~2,000 entries: 30 KB deflated an edit).
 */
const SHARD_COUNTS: readonly number[] = [1, 16, 256];
const MAX_SHARDS = 256;
/** The entries per shard a writer aims at (most edits then rewrite under 30 KB of metadata). */
const ENTRIES_PER_SHARD = 256;

/**
 * How many shards `entries` entries are spread over. A count already in use is kept while it
 * is within a factor of 2 above or 32 below its aim, so a tree near a boundary does not move
 * every entry to other shards at each full commit.
 */
export function shardCount(entries: number, previous?: number): number {
  if (previous !== undefined && SHARD_COUNTS.includes(previous)) {
    const aim = previous * ENTRIES_PER_SHARD;
    if (entries <= aim * 2 && (previous === 1 || entries > aim / 32)) return previous;
  }
  return SHARD_COUNTS.find((n) => entries <= n * ENTRIES_PER_SHARD) ?? MAX_SHARDS;
}

/** The shard of an entry's path: FNV-1a of its UTF-16 code units, its low bits. */
export function shardOf(rel: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < rel.length; i++) hash = Math.imul(hash ^ rel.charCodeAt(i), 0x01000193);
  return (hash >>> 0) & (count - 1);
}

/** The path of shard `index` of `count` in the commit's tree. */
export function shardPath(index: number, count: number): string {
  const digits = Math.max(1, Math.log2(count) / 4);
  return `${METADATA_SHARDS_DIR}/${index.toString(16).padStart(digits, '0')}.json`;
}

/** The header file's text: the metadata without its entries, with the shard count. */
export function headerText(metadata: Metadata, shards: number): string {
  const { entries: _entries, shards: _shards, ...head } = metadata;
  return `${JSON.stringify({ ...head, version: METADATA_VERSION, shards })}\n`;
}

/** A shard file's text from its entries' lines (JSON, in byte order): one entry per line, so a diff shows what changed. */
export function shardText(lines: readonly string[]): string {
  return `[\n${lines.map((line) => `    ${line}`).join(',\n')}\n]\n`;
}

const SHARD_OPEN = Buffer.from('[\n');
const SHARD_CLOSE = Buffer.from('\n]\n');

/** A shard file's bytes in pieces, from its lines as shardText lays them out ("    <line>" joined by ",\n"). */
export function shardPieces(block: Buffer): Buffer[] {
  return [SHARD_OPEN, block, SHARD_CLOSE];
}

/**
 * The files of the metadata (the header, then each shard holding an entry, by name), as a
 * full commit writes them. Their texts are strings: the caller hashes each and makes bytes
 * only of those it writes (a buffer per shard, 6.4 MB at 50k files, all freed at once, left
 * ~7 MiB of the daemon's heap fragmented for good).
 */
export function metadataFiles(metadata: Metadata, shards: number): Array<{ path: string; text: string }> {
  const lines: string[][] = Array.from({ length: shards }, () => []);
  for (const entry of metadata.entries) lines[shardOf(entry.path, shards)]!.push(JSON.stringify(entry));
  const files = [{ path: METADATA_PATH, text: headerText(metadata, shards) }];
  lines.forEach((shard, index) => {
    if (shard.length > 0) files.push({ path: shardPath(index, shards), text: shardText(shard) });
  });
  return files;
}

/**
 * The metadata as read from its files (unchecked: the caller validates it, rebuild/validate.ts):
 * a version 1 or 2 header holds the entries itself; a version 3 header's entries are every
 * shard's, ordered by path ('.' first, then bytes). Throws on text that is not JSON, or a shard
 * that is not a list.
 */
export function parseMetadataFiles(header: Buffer, shards: readonly Buffer[]): unknown {
  const head: unknown = JSON.parse(header.toString('utf8'));
  if (typeof head !== 'object' || head === null || Array.isArray(head) || (head as { version?: unknown }).version !== 3) return head;
  const entries: unknown[] = [];
  for (const shard of shards) {
    const list: unknown = JSON.parse(shard.toString('utf8'));
    if (!Array.isArray(list)) throw new Error('a shard of the metadata is not a list');
    for (const entry of list) entries.push(entry);
  }
  return { ...head, entries: sortedByPath(entries) };
}

/** Entries in the metadata's order ('.' first, then by the bytes of their paths); one without a string path last (validation names it). */
function sortedByPath(entries: unknown[]): unknown[] {
  const keyed = entries.map((entry) => {
    const rel = (entry as Partial<MetadataEntry> | null)?.path;
    let key: Buffer | undefined;
    try {
      key = typeof rel !== 'string' ? undefined : rel === '.' ? Buffer.alloc(0) : encodeName(rel);
    } catch {
      key = Buffer.from(String(rel), 'utf8');
    }
    return { entry, key };
  });
  keyed.sort((a, b) => (a.key === undefined ? (b.key === undefined ? 0 : 1) : b.key === undefined ? -1 : Buffer.compare(a.key, b.key)));
  return keyed.map((k) => k.entry);
}
