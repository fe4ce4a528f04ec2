// The metadata carried in every commit under `.pacha/` (metadata-files.ts lays it out): what git does not keep
// (full modes, owners, groups, empty directories, symlink targets, hard links, special
// files). It is data, never a script: restoring it runs no code from the repository
// (etckeeper's `.etckeeper` does).
//
// Paths and symlink targets are strings as src/fs/names.ts makes them: valid UTF-8 as
// itself, any other byte as the lone surrogate U+DC80+byte (JSON "\udcff").
import type { EntryType } from '../fs/entry.js';

/** The header (format version 3: the entries are in shard files beside it, metadata-files.ts), or all of it (versions 1 and 2). */
export const METADATA_PATH = '.pacha/metadata.json';
/** The directory of every metadata file; no tracked path holds one of its own (capture.ts refuses it). */
export const METADATA_DIR = '.pacha';

/** Whether a path of a commit's tree is one of pacha's metadata files. Pure. */
export function isMetadataPath(rel: string): boolean {
  return rel.startsWith(`${METADATA_DIR}/`);
}
/** 2: special files, hard links, byte-exact names; 3: the entries in shards (versions 1 and 2 are still read). */
export const METADATA_VERSION = 3;
export const READABLE_VERSIONS: readonly number[] = [1, 2, 3];

/**
 * 'fifo', 'char' and 'block' are recreated by a rebuild; 'socket' is recorded so that watch
 * and rebuild can say it is not restored (a socket belongs to the program listening on it);
 * 'other' comes only from version 1 metadata and is skipped.
 */
export type { EntryType } from '../fs/entry.js';
export const ENTRY_TYPES: readonly EntryType[] = ['file', 'directory', 'symlink', 'fifo', 'char', 'block', 'socket', 'other'];
/** Types a rebuild cannot restore: listed as skipped by watch and by rebuild. */
export const SKIPPED_TYPES: ReadonlySet<EntryType> = new Set(['socket', 'other']);

export interface Owner {
  /** Name on the host that committed; undefined when the id had no name there. */
  name?: string;
  id: number;
}

export interface MetadataEntry {
  /** Relative to the tracked path, '/'-separated; '.' is the tracked path itself. */
  path: string;
  type: EntryType;
  /** Full mode bits including setuid/setgid/sticky (st_mode & 0o7777). */
  mode: number;
  user: Owner;
  group: Owner;
  /** Symlinks only: the target, verbatim (may dangle). */
  target?: string;
  /** Files only: size in bytes (for progress and reports). */
  size?: number;
  /**
   * Files only: this file is a hard link to the entry of that path (the first of its link
   * group inside the tracked path, in byte order), which carries the shared mode and owner.
   */
  hardlink?: string;
  /** Character and block devices: the device numbers. */
  device?: { major: number; minor: number };
  /**
   * Extended attributes (ACLs as system.posix_acl_*, security.capability, security.selinux,
   * user.*, trusted.*): name → value in base64. Absent: none (or, for a hard link after the
   * first of its group, the first one's).
   */
  xattrs?: Record<string, string>;
}

export interface Metadata {
  version: number;
  /** Absolute location of the tracked path on the host. */
  location: string;
  /** The host that committed this. */
  host: string;
  /** true when only one file is tracked (`pacha watch --single`). */
  single: boolean;
  /** false when the host could not read extended attributes (no getfattr): none are recorded. */
  xattrs?: boolean;
  /** Ignore patterns given for this path (`pacha watch --ignore`), restored with it. */
  ignore?: string[];
  /** Version 3: how many shards the entries were spread over when written (metadata-files.ts). */
  shards?: number;
  /** Sorted by path (byte order), '.' first. */
  entries: MetadataEntry[];
}
