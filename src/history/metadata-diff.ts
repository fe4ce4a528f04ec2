// `pacha diff`'s second half: what changed in the metadata git does not keep (full mode,
// owner, group, type, symlink target), entry by entry, between two metadata documents. Pure.
import type { Metadata, MetadataEntry, Owner } from '../store/metadata.js';
import { byteOrder } from '../fs/byte-order.js';
import { inScope, type Scope } from './scope.js';

export type MetadataField = 'type' | 'mode' | 'user' | 'group' | 'target';

export interface FieldChange {
  field: MetadataField;
  from: string;
  to: string;
}

export interface EntryDifference {
  path: string;
  status: 'added' | 'removed' | 'changed';
  /** For 'changed': the fields that differ. */
  fields: FieldChange[];
  before?: MetadataEntry;
  after?: MetadataEntry;
}

export const formatMode = (mode: number): string => mode.toString(8).padStart(4, '0');

/** "root", or the number when no name was recorded. */
export function formatOwner(owner: Owner): string {
  return owner.name ?? String(owner.id);
}

function fieldChanges(a: MetadataEntry, b: MetadataEntry): FieldChange[] {
  const fields: FieldChange[] = [];
  const add = (field: MetadataField, from: string, to: string): void => {
    if (from !== to) fields.push({ field, from, to });
  };
  add('type', a.type, b.type);
  // A symlink's own mode means nothing on Linux.
  if (a.type !== 'symlink' || b.type !== 'symlink') add('mode', formatMode(a.mode), formatMode(b.mode));
  // Same name but another number (or the reverse) is a change too: show both then.
  const user = (o: Owner): string => (a.user.name === b.user.name && a.user.id !== b.user.id ? `${formatOwner(o)} (${o.id})` : formatOwner(o));
  const group = (o: Owner): string => (a.group.name === b.group.name && a.group.id !== b.group.id ? `${formatOwner(o)} (${o.id})` : formatOwner(o));
  add('user', user(a.user), user(b.user));
  add('group', group(a.group), group(b.group));
  add('target', a.target ?? '', b.target ?? '');
  return fields;
}

/** Entry by entry, within the scope, sorted by path; unchanged entries are left out. */
export function diffMetadata(before: Metadata | undefined, after: Metadata | undefined, scope: Pick<Scope, 'entry' | 'whole'>): EntryDifference[] {
  const old = new Map((before?.entries ?? []).filter((e) => inScope(scope, e.path)).map((e) => [e.path, e]));
  const now = new Map((after?.entries ?? []).filter((e) => inScope(scope, e.path)).map((e) => [e.path, e]));
  const differences: EntryDifference[] = [];
  for (const [entryPath, b] of now) {
    const a = old.get(entryPath);
    if (!a) differences.push({ path: entryPath, status: 'added', fields: [], after: b });
    else {
      const fields = fieldChanges(a, b);
      if (fields.length) differences.push({ path: entryPath, status: 'changed', fields, before: a, after: b });
    }
  }
  for (const [entryPath, a] of old) if (!now.has(entryPath)) differences.push({ path: entryPath, status: 'removed', fields: [], before: a });
  return differences.sort((x, y) => byteOrder(x.path, y.path));
}

function describeEntry(entry: MetadataEntry): string {
  const target = entry.type === 'symlink' ? ` -> ${entry.target ?? ''}` : ` ${formatMode(entry.mode)}`;
  return `${entry.type}${target} ${formatOwner(entry.user)}:${formatOwner(entry.group)}`;
}

/** One line per difference: "app.conf: mode 0644 → 0600, user root → www". */
export function formatDifference(d: EntryDifference): string {
  if (d.status === 'added') return `${d.path}: added (${describeEntry(d.after!)})`;
  if (d.status === 'removed') return `${d.path}: removed (was ${describeEntry(d.before!)})`;
  return `${d.path}: ${d.fields.map((f) => `${f.field} ${f.from || '(none)'} → ${f.to || '(none)'}`).join(', ')}`;
}
