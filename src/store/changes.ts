// What changed between two commits of a tracked path, for the commit message and logs. Pure.
import type { Metadata, MetadataEntry } from './metadata.js';
import { isMetadataPath } from './metadata.js';

export interface Change {
  /** A added, M modified, D deleted, R renamed, T type changed, P permissions/owner only. */
  kind: 'A' | 'M' | 'D' | 'R' | 'T' | 'P';
  path: string;
  /** Renames: the old path. Permission changes: what changed ("mode 0644→0600"). */
  detail?: string;
}

/** Parse `git diff-tree -r -z --name-status -M` output. */
export function parseNameStatus(output: string): Change[] {
  const fields = output.split('\0').filter((f) => f.length > 0);
  const changes: Change[] = [];
  for (let i = 0; i < fields.length; ) {
    const status = fields[i++]!;
    const kind = status[0] as Change['kind'];
    if (kind === 'R' || status[0] === 'C') {
      const from = fields[i++]!;
      const to = fields[i++]!;
      changes.push({ kind: 'R', path: to, detail: from });
    } else {
      changes.push({ kind: ['A', 'M', 'D', 'T'].includes(kind) ? kind : 'M', path: fields[i++]! });
    }
  }
  return changes;
}

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');

function ownerText(entry: MetadataEntry): string {
  return `${entry.user.name ?? entry.user.id}:${entry.group.name ?? entry.group.id}`;
}

/** Entries whose mode, owner, group, type or symlink target changed without a content change git saw. */
export function metadataChanges(before: Metadata | undefined, after: Metadata, alreadyListed: Set<string>): Change[] {
  if (!before) return [];
  const old = new Map(before.entries.map((e) => [e.path, e]));
  const changes: Change[] = [];
  for (const entry of after.entries) {
    const previous = old.get(entry.path);
    const shown = entry.path === '.' ? '.' : entry.path;
    if (alreadyListed.has(shown)) continue;
    if (!previous) {
      // Directories and special files are invisible to git: they appear only here.
      if (entry.type === 'directory') changes.push({ kind: 'A', path: `${shown}/` });
      else if (entry.type !== 'file' && entry.type !== 'symlink') changes.push({ kind: 'A', path: shown, detail: entry.type });
      continue;
    }
    const parts: string[] = [];
    if (previous.type !== entry.type) parts.push(`type ${previous.type}→${entry.type}`);
    if (previous.mode !== entry.mode) parts.push(`mode ${octal(previous.mode)}→${octal(entry.mode)}`);
    if (ownerText(previous) !== ownerText(entry) || previous.user.id !== entry.user.id || previous.group.id !== entry.group.id) {
      parts.push(`owner ${ownerText(previous)}→${ownerText(entry)}`);
    }
    if (previous.target !== entry.target) parts.push(`target ${previous.target ?? ''}→${entry.target ?? ''}`);
    if (previous.hardlink !== entry.hardlink) parts.push(entry.hardlink ? `hard link to ${entry.hardlink}` : 'no longer a hard link');
    const device = (e: MetadataEntry): string => (e.device ? `${e.device.major}:${e.device.minor}` : '');
    if (device(previous) !== device(entry)) parts.push(`device ${device(previous)}→${device(entry)}`);
    if (JSON.stringify(previous.xattrs ?? {}) !== JSON.stringify(entry.xattrs ?? {})) {
      const names = [...new Set([...Object.keys(previous.xattrs ?? {}), ...Object.keys(entry.xattrs ?? {})])].filter((n) => previous.xattrs?.[n] !== entry.xattrs?.[n]);
      parts.push(`xattrs ${names.join(' ')}`);
    }
    if (parts.length > 0) changes.push({ kind: 'P', path: shown, detail: parts.join(', ') });
  }
  const now = new Set(after.entries.map((e) => e.path));
  for (const entry of before.entries) {
    if (now.has(entry.path) || alreadyListed.has(entry.path)) continue;
    if (entry.type === 'directory') changes.push({ kind: 'D', path: `${entry.path}/` });
    else if (entry.type !== 'file' && entry.type !== 'symlink') changes.push({ kind: 'D', path: entry.path });
  }
  return changes;
}

/** Content changes git reported, without pacha's own metadata files (under `.pacha/`, which no tracked path holds: capture.ts). */
export function contentChanges(changes: Change[]): Change[] {
  return changes.filter((c) => !isMetadataPath(c.path) && !(c.kind === 'R' && c.detail !== undefined && isMetadataPath(c.detail)));
}

export function formatChange(change: Change): string {
  if (change.kind === 'R') return `R ${change.detail} -> ${change.path}`;
  if (change.kind === 'P') return `P ${change.path} (${change.detail})`;
  return `${change.kind} ${change.path}`;
}

/** Subject: the location and the first few paths; body: every change, one per line. */
export function commitMessage(location: string, changes: Change[], initial: boolean): string {
  if (initial) return `track ${location}\n\n${changes.length} entries`;
  const names = changes.slice(0, 3).map((c) => c.path);
  const more = changes.length > 3 ? ` (+${changes.length - 3} more)` : '';
  const subject = `${location}: ${names.join(', ')}${more}`;
  return `${subject}\n\n${changes.map(formatChange).join('\n')}`;
}
