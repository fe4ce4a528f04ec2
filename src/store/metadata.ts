// The metadata carried in every commit as `.pacha/metadata.json`: what git does not keep
// (full modes, owners, groups, empty directories, symlink targets). It is data, never a
// script: restoring it runs no code from the repository (etckeeper's `.etckeeper` does).

export const METADATA_PATH = '.pacha/metadata.json';
export const METADATA_VERSION = 1;

export type EntryType = 'file' | 'directory' | 'symlink' | 'other';

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
}

export interface Metadata {
  version: typeof METADATA_VERSION;
  /** Absolute location of the tracked path on the host. */
  location: string;
  /** The host that committed this. */
  host: string;
  /** true when only one file is tracked (`pacha watch --single`). */
  single: boolean;
  /** Sorted by path (byte order), '.' first. */
  entries: MetadataEntry[];
}
