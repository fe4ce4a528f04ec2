// Which hooks run, and in which order: a pure decision over directory entries, so the same
// rule applies to hooks listed over SFTP (Master.fetchHooks) and to a local directory.
//
// The rules follow Debian's run-parts(8):
// - only regular files with an execute bit run; directories, symlinks and anything else are
//   skipped (run-parts follows symlinks; we do not, because a hook directory comes from
//   the master and a link could point anywhere on the host being rebuilt);
// - names are ordered by their bytes, like run-parts' strcmp in the C locale: "02-b" <
//   "10-a" < "B" < "a" < "ü-x". We compare UTF-8 bytes, not UTF-16 units or a locale;
// - the exclusions run-parts --lsbsysinit makes for package-manager leftovers (*.dpkg-old,
//   *.dpkg-dist, *.dpkg-new, *.dpkg-tmp, generalised here to any ".dpkg-" suffix), plus the
//   ones an editor or another package manager leaves behind: hidden names (".foo", editor
//   swap files), backups ending in "~", *.rpmsave / *.rpmnew / *.rpmorig, *.ucf-*.
// Unlike run-parts without --lsbsysinit we do not restrict names to [A-Za-z0-9_-]: the
// issue wants any name (e.g. "ü-x") to run.
// The original chmod-ed every hook 0755 and ran them in os.listdir() order; we never change
// a hook's mode: a file the admin left non-executable is reported as skipped.

import { byteOrder } from '../fs/byte-order.js';

export type HookEntryType = 'file' | 'directory' | 'symlink' | 'other';

/** One directory entry; structurally the same as Master's HookFile. */
export interface HookEntry {
  name: string;
  type: HookEntryType;
  /** st_mode & 0o7777 (permission bits). */
  mode: number;
}

export interface SkippedHook {
  name: string;
  reason: string;
}

export interface HookOrder {
  /** Names to run, in order. */
  run: string[];
  /** Everything else, in the same byte order, each with the reason it does not run. */
  skipped: SkippedHook[];
}

// Suffixes of files a package manager leaves beside a configuration file it updated.
const LEFTOVER_SUFFIX = /\.(dpkg-[^/]*|ucf-[^/]*|rpmsave|rpmnew|rpmorig)$/;

/** Why a name is never run, whatever the file is; undefined when the name is acceptable. */
function nameExclusion(name: string): string | undefined {
  if (name === '' || name.includes('/') || name.includes('\0')) return 'not a plain file name';
  if (name.startsWith('.')) return 'hidden name (starts with ".")';
  if (name.endsWith('~')) return 'backup file (name ends with "~")';
  const leftover = LEFTOVER_SUFFIX.exec(name);
  if (leftover) return `package manager leftover (".${leftover[1]}")`;
  return undefined;
}

function typeExclusion(entry: HookEntry): string | undefined {
  switch (entry.type) {
    case 'file':
      return (entry.mode & 0o111) === 0
        ? `not executable (mode ${(entry.mode & 0o7777).toString(8).padStart(4, '0')}); pacha does not chmod hooks`
        : undefined;
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symbolic link (hooks must be regular files)';
    default:
      return 'not a regular file';
  }
}

/** Decide which entries of a hook directory run and in which order. */
export function orderHooks(entries: readonly HookEntry[]): HookOrder {
  const sorted = [...entries].sort((a, b) => byteOrder(a.name, b.name));
  const run: string[] = [];
  const skipped: SkippedHook[] = [];
  for (const entry of sorted) {
    const reason = nameExclusion(entry.name) ?? typeExclusion(entry);
    if (reason === undefined) run.push(entry.name);
    else skipped.push({ name: entry.name, reason });
  }
  return { run, skipped };
}
