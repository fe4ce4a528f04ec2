// Users and groups of a system, by name and by number, from its passwd and group files.
// Capture needs id → name (metadata records both); restore needs name → id on the new host.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface AccountTable {
  byName: Map<string, number>;
  byId: Map<number, string>;
}

/** Parse /etc/passwd or /etc/group text: name:x:id:… Pure. */
export function parseAccounts(text: string): AccountTable {
  const byName = new Map<string, number>();
  const byId = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [name, , idText] = line.split(':');
    if (!name || idText === undefined || !/^\d+$/.test(idText)) continue;
    const id = Number(idText);
    if (!byName.has(name)) byName.set(name, id);
    if (!byId.has(id)) byId.set(id, name);
  }
  return { byName, byId };
}

export interface Accounts {
  users: AccountTable;
  groups: AccountTable;
}

async function readTable(file: string): Promise<AccountTable> {
  try {
    return parseAccounts(await readFile(file, 'utf8'));
  } catch {
    return { byName: new Map(), byId: new Map() };
  }
}

/** The accounts of the system rooted at `root` ('/' for this one). */
export async function loadAccounts(root = '/'): Promise<Accounts> {
  const [users, groups] = await Promise.all([
    readTable(path.join(root, 'etc/passwd')),
    readTable(path.join(root, 'etc/group')),
  ]);
  return { users, groups };
}
