// A repository staged by hand, as a checkout plus its metadata would be, with every kind
// of entry the crash story must restore; and a real user and group made for the test.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import type { Metadata, MetadataEntry, Owner } from '../../../src/store/metadata.js';

export interface TestAccount {
  user: string;
  group: string;
  uid: number;
  gid: number;
}

function idFree(database: 'passwd' | 'group', id: number): boolean {
  try {
    execFileSync('getent', [database, String(id)], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
}

/** A system user and group (uid ≠ gid, and the gid is not the uid of anyone), removed when the file ends. */
export function createTestAccount(): TestAccount {
  const suffix = randomBytes(3).toString('hex');
  const user = `pachatest${suffix}`;
  const group = `pachatestg${suffix}`;
  let gid = 0;
  for (let tries = 0; tries < 100 && !gid; tries++) {
    const candidate = 20000 + Math.floor(Math.random() * 30000);
    if (idFree('group', candidate) && idFree('passwd', candidate + 7) && idFree('passwd', candidate)) gid = candidate;
  }
  if (!gid) throw new Error('no free uid/gid pair found for the test account');
  const uid = gid + 7;
  execFileSync('groupadd', ['-g', String(gid), group]);
  execFileSync('useradd', ['--system', '--no-create-home', '-N', '-u', String(uid), '-g', group, '-s', '/usr/sbin/nologin', user]);
  after(() => {
    execFileSync('userdel', [user]);
    execFileSync('groupdel', [group]);
  });
  return { user, group, uid, gid };
}

export interface StagedEntry {
  path: string;
  type: MetadataEntry['type'];
  mode: number;
  user: Owner;
  group: Owner;
  content?: Buffer;
  target?: string;
}

/** Byte order, as the metadata is sorted. */
const byBytes = (a: StagedEntry, b: StagedEntry): number => (a.path === '.' ? -1 : b.path === '.' ? 1 : Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));

/**
 * Write `entries` as a checkout under `stageTree` (files with git's modes, symlinks as
 * symlinks, no empty directories: git has none) and return their metadata.
 */
export function stageRepository(stageTree: string, location: string, entries: StagedEntry[], single = false): Metadata {
  mkdirSync(stageTree, { recursive: true, mode: 0o700 });
  const sorted = [...entries].sort(byBytes);
  for (const entry of sorted) {
    const file = path.join(stageTree, entry.path);
    if (entry.type === 'file') {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, entry.content ?? '', { mode: entry.mode & 0o100 ? 0o755 : 0o644 });
    } else if (entry.type === 'symlink') {
      mkdirSync(path.dirname(file), { recursive: true });
      symlinkSync(entry.target ?? '', file);
    }
  }
  return {
    version: 1,
    location,
    host: 'bar',
    single,
    entries: sorted.map((e) => {
      const meta: MetadataEntry = { path: e.path, type: e.type, mode: e.mode, user: e.user, group: e.group };
      if (e.type === 'symlink') meta.target = e.target ?? '';
      if (e.type === 'file') meta.size = e.content?.length ?? 0;
      return meta;
    }),
  };
}

export const ROOT: Owner = { name: 'root', id: 0 };

/** Every kind of entry the crash story names, owned by root and by `account`. */
export function crashStoryEntries(account: TestAccount): StagedEntry[] {
  const user: Owner = { name: account.user, id: 999_001 }; // recorded ids from the dead host differ: names must win
  const group: Owner = { name: account.group, id: 999_002 };
  const big = randomBytes(700 * 1024);
  return [
    { path: '.', type: 'directory', mode: 0o755, user: ROOT, group: ROOT },
    { path: 'secret.key', type: 'file', mode: 0o600, user: ROOT, group: ROOT, content: Buffer.from('top secret\n') },
    { path: 'public.txt', type: 'file', mode: 0o644, user, group, content: Buffer.from('hello\n') },
    { path: 'big.bin', type: 'file', mode: 0o644, user: ROOT, group, content: big },
    { path: 'bin', type: 'directory', mode: 0o755, user: ROOT, group: ROOT },
    { path: 'bin/tool', type: 'file', mode: 0o755, user, group: ROOT, content: Buffer.from('#!/bin/sh\necho tool\n') },
    { path: 'bin/suid', type: 'file', mode: 0o4755, user, group, content: Buffer.from('#!/bin/sh\necho suid\n') },
    { path: 'shared', type: 'directory', mode: 0o1777, user: ROOT, group: ROOT },
    { path: 'shared/note', type: 'file', mode: 0o666, user, group, content: Buffer.from('note\n') },
    { path: 'empty', type: 'directory', mode: 0o700, user, group },
    { path: 'readonly', type: 'directory', mode: 0o555, user, group },
    { path: 'readonly/inside', type: 'file', mode: 0o444, user, group, content: Buffer.from('inside\n') },
    { path: 'link', type: 'symlink', mode: 0o777, user, group, target: 'public.txt' },
    { path: 'dangling', type: 'symlink', mode: 0o777, user: ROOT, group: ROOT, target: 'does/not/exist' },
    { path: 'dir with space', type: 'directory', mode: 0o750, user, group },
    { path: 'dir with space/naïve café ☕.txt', type: 'file', mode: 0o640, user, group, content: Buffer.from('crème brûlée\n') },
  ];
}
