// Capture the metadata of a tracked path: every entry's type, full mode, owner, group,
// symlink target. Reads only (lstat, readlink); follows no symlink.
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { Accounts } from '../accounts.js';
import { METADATA_VERSION, type EntryType, type Metadata, type MetadataEntry } from './metadata.js';

/** pacha's own temporary files beside a target (rebuild, rollback): never tracked. */
export const TEMP_PREFIX = '.pacha-tmp-';

export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function typeOf(stats: import('node:fs').Stats): EntryType {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'other';
}

function entryFor(relative: string, absolute: string, accounts: Accounts): { entry: MetadataEntry; isDir: boolean } | undefined {
  const stats = lstatSync(absolute, { throwIfNoEntry: false });
  // Vanished between readdir and lstat (an editor's temp file): the next scan sees the truth.
  if (!stats) return undefined;
  const type = typeOf(stats);
  const entry: MetadataEntry = {
    path: relative,
    type,
    mode: stats.mode & 0o7777,
    user: { id: stats.uid, ...(accounts.users.byId.has(stats.uid) ? { name: accounts.users.byId.get(stats.uid)! } : {}) },
    group: { id: stats.gid, ...(accounts.groups.byId.has(stats.gid) ? { name: accounts.groups.byId.get(stats.gid)! } : {}) },
  };
  if (type === 'symlink') entry.target = readlinkSync(absolute);
  if (type === 'file') entry.size = stats.size;
  return { entry, isDir: type === 'directory' };
}

/**
 * Synchronous lstat per entry, yielding to the event loop after each directory: a promise
 * per lstat cost the daemon ~220 ms of CPU per scan of 11,111 entries, this ~45 ms
 * (bench/footprint.bench.ts), and watcher events still get through between directories.
 */
async function walk(root: string, relative: string, accounts: Accounts, out: MetadataEntry[]): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(path.join(root, relative)).filter((name) => !name.startsWith(TEMP_PREFIX));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && relative !== '.') return; // removed meanwhile
    throw error;
  }
  const directories: string[] = [];
  for (const name of names) {
    const rel = relative === '.' ? name : `${relative}/${name}`;
    const result = entryFor(rel, path.join(root, rel), accounts);
    if (!result) continue;
    out.push(result.entry);
    if (result.isDir) directories.push(rel);
  }
  await new Promise<void>((resolve) => setImmediate(resolve));
  for (const directory of directories) await walk(root, directory, accounts, out);
}

/** The metadata of a tracked directory, or of one file when `single`. */
export async function captureMetadata(options: {
  location: string;
  single: boolean;
  host: string;
  accounts: Accounts;
}): Promise<Metadata> {
  const { location, single, host, accounts } = options;
  const entries: MetadataEntry[] = [];
  const top = entryFor(single ? path.basename(location) : '.', location, accounts);
  if (!top) throw Object.assign(new Error(`ENOENT: no such file or directory, lstat '${location}'`), { code: 'ENOENT' });
  entries.push(top.entry);
  if (!single) await walk(location, '.', accounts, entries);
  entries.sort((a, b) => (a.path === '.' ? -1 : b.path === '.' ? 1 : byteOrder(a.path, b.path)));
  return { version: METADATA_VERSION, location, host, single, entries };
}

/** One entry per line, so that `git diff` of the metadata reads well. */
export function serializeMetadata(metadata: Metadata): string {
  const { entries, ...head } = metadata;
  const lines = entries.map((entry) => `    ${JSON.stringify(entry)}`);
  const headText = JSON.stringify(head).slice(0, -1);
  return `${headText},\n  "entries": [\n${lines.join(',\n')}\n  ]\n}\n`;
}
