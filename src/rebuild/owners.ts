// Owners are restored by NAME on the target system first: a uid recorded on the dead host
// may belong to someone else on the new one. Only when the name is unknown there does the
// recorded number apply, and that is reported (the original skipped such owners silently).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { minimalEnv } from '../child-env.js';
import { loadAccounts, type AccountTable, type Accounts } from '../accounts.js';
import type { MetadataEntry, Owner } from '../store/metadata.js';

export interface OwnerNotFound {
  kind: 'user' | 'group';
  name: string;
  /** The recorded id used instead. */
  id: number;
  /** Entry paths that got the numeric id. */
  paths: string[];
}

export interface ResolvedOwner {
  uid: number;
  gid: number;
}

/** The id of a recorded owner on the target; `found: false` when its name is unknown there. */
function resolveOne(owner: Owner, table: AccountTable): { id: number; found: boolean } {
  if (owner.name === undefined) return { id: owner.id, found: true }; // no name was recorded: the number is all there is
  const id = table.byName.get(owner.name);
  return id === undefined ? { id: owner.id, found: false } : { id, found: true };
}

/**
 * Pure: uid and gid for every entry (keyed by entry path), plus the owners whose names the
 * target does not know, each with the entries that fell back to the recorded number.
 */
export function resolveOwners(
  entries: readonly MetadataEntry[],
  accounts: Accounts,
): { owners: Map<string, ResolvedOwner>; notFound: OwnerNotFound[] } {
  const owners = new Map<string, ResolvedOwner>();
  const notFound = new Map<string, OwnerNotFound>();
  const note = (kind: 'user' | 'group', owner: Owner, entryPath: string): void => {
    const key = `${kind}:${owner.name}:${owner.id}`;
    let item = notFound.get(key);
    if (!item) notFound.set(key, (item = { kind, name: owner.name ?? '', id: owner.id, paths: [] }));
    item.paths.push(entryPath);
  };
  for (const entry of entries) {
    const user = resolveOne(entry.user, accounts.users);
    const group = resolveOne(entry.group, accounts.groups);
    if (!user.found) note('user', entry.user, entry.path);
    if (!group.found) note('group', entry.group, entry.path);
    owners.set(entry.path, { uid: user.id, gid: group.id });
  }
  // Users before groups, then by name: the same report for the same metadata.
  const sorted = [...notFound.values()].sort((a, b) => (a.kind === b.kind ? (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id) : a.kind === 'user' ? -1 : 1));
  return { owners, notFound: sorted };
}

/** Every user and group name the entries record. */
export function recordedNames(entries: readonly MetadataEntry[]): { users: Set<string>; groups: Set<string> } {
  const users = new Set<string>();
  const groups = new Set<string>();
  for (const entry of entries) {
    if (entry.user.name !== undefined) users.add(entry.user.name);
    if (entry.group.name !== undefined) groups.add(entry.group.name);
  }
  return { users, groups };
}

/** `getent passwd NAME` / `getent group NAME`: the id, or undefined (exit 2 = not found). */
export function getentId(database: 'passwd' | 'group', name: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('getent', [database, '--', name], { timeout: 10_000, env: minimalEnv() }, (error, stdout) => {
      if (error) return resolve(undefined);
      const idText = stdout.split('\n')[0]?.split(':')[2];
      resolve(idText !== undefined && /^\d+$/.test(idText) ? Number(idText) : undefined);
    });
  });
}

/**
 * The accounts of the target system, enough to resolve `names`: its passwd/group files, and
 * when the target is this system (root '/'), `getent` for names the files lack (LDAP, sssd…).
 * Under another --root, only that tree's files count: this host's NSS says nothing about it.
 */
export async function loadTargetAccounts(
  root: string,
  names: { users: Iterable<string>; groups: Iterable<string> },
): Promise<Accounts> {
  const accounts = await loadAccounts(root);
  if (path.resolve(root) !== '/') return accounts;
  const fill = async (table: AccountTable, database: 'passwd' | 'group', wanted: Iterable<string>): Promise<void> => {
    const missing = [...wanted].filter((name) => !table.byName.has(name));
    const ids = await Promise.all(missing.map((name) => getentId(database, name)));
    missing.forEach((name, i) => {
      const id = ids[i];
      if (id !== undefined) table.byName.set(name, id);
    });
  };
  await Promise.all([fill(accounts.users, 'passwd', names.users), fill(accounts.groups, 'group', names.groups)]);
  return accounts;
}
