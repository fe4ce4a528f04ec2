// Trees of files with every kind of metadata, and exact snapshots of them to compare.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { atExit } from './tmp.js';

export interface TestAccount {
  user: string;
  group: string;
  uid: number;
  gid: number;
}

/** A system user and group made for the test (uid ≠ gid), removed afterwards. */
export function makeAccount(): TestAccount {
  const suffix = Math.random().toString(36).slice(2, 8);
  const user = `pt${suffix}`;
  const group = `pg${suffix}`;
  execFileSync('groupadd', ['--system', group]);
  execFileSync('groupadd', ['--system', `${group}x`]); // shifts the next ids so that uid ≠ gid
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '-g', group, user]);
  atExit(() => {
    execFileSync('userdel', [user]);
    execFileSync('groupdel', [`${group}x`]);
    execFileSync('groupdel', [group]);
  });
  const uid = Number(execFileSync('id', ['-u', user]).toString());
  const gid = Number(execFileSync('getent', ['group', group]).toString().split(':')[2]);
  return { user, group, uid, gid };
}

/** Files of modes 0600/0644/0755/04755, a 1777 dir, owned files, symlinks, an empty dir, odd names. */
export function makeRichTree(dir: string, account: TestAccount): void {
  mkdirSync(path.join(dir, 'sub/deep'), { recursive: true });
  const file = (rel: string, content: string, mode: number): void => {
    writeFileSync(path.join(dir, rel), content);
    chmodSync(path.join(dir, rel), mode);
  };
  file('secret.key', 'k\n', 0o600);
  file('app.conf', 'listen = 80\n', 0o644);
  file('run.sh', '#!/bin/sh\necho hi\n', 0o755);
  file('setuid-tool', 'binary\n', 0o4755);
  file('sub/deep/nested.conf', 'deep = 1\n', 0o640);
  file('name with spaces ü.conf', 'ü = 1\n', 0o644);
  file('owned.conf', 'owned\n', 0o640);
  chownSync(path.join(dir, 'owned.conf'), account.uid, account.gid);
  mkdirSync(path.join(dir, 'spool'));
  chmodSync(path.join(dir, 'spool'), 0o1777);
  mkdirSync(path.join(dir, 'empty'));
  mkdirSync(path.join(dir, 'private'));
  file('private/inner', 'x\n', 0o600);
  chmodSync(path.join(dir, 'private'), 0o700);
  chownSync(path.join(dir, 'private'), account.uid, account.gid);
  symlinkSync('app.conf', path.join(dir, 'link'));
  symlinkSync('/nonexistent/target', path.join(dir, 'dangling'));
}

export interface SnapshotEntry {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  content?: string;
  target?: string;
}

/** Everything that must come back exactly, by relative path. */
export function snapshot(dir: string): Record<string, SnapshotEntry> {
  const out: Record<string, SnapshotEntry> = {};
  const visit = (rel: string): void => {
    const abs = rel === '.' ? dir : path.join(dir, rel);
    const st = lstatSync(abs);
    const entry: SnapshotEntry = {
      type: st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other',
      mode: (st.mode & 0o7777).toString(8),
      uid: st.uid,
      gid: st.gid,
    };
    if (st.isFile()) entry.content = createHash('sha256').update(readFileSync(abs)).digest('hex');
    if (st.isSymbolicLink()) {
      entry.target = readlinkSync(abs);
      entry.mode = 'link';
    }
    out[rel] = entry;
    if (st.isDirectory()) for (const name of readdirSync(abs).sort()) visit(rel === '.' ? name : `${rel}/${name}`);
  };
  visit('.');
  return out;
}

/** Inode and mtime of every entry: proof that a second run wrote nothing. */
export function inodes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (rel: string): void => {
    const abs = rel === '.' ? dir : path.join(dir, rel);
    const st = lstatSync(abs);
    out[rel] = `${st.ino}:${st.mtimeMs}:${st.ctimeMs}`;
    if (st.isDirectory()) for (const name of readdirSync(abs)) visit(rel === '.' ? name : `${rel}/${name}`);
  };
  visit('.');
  return out;
}

/** An executable hook script in <master>/<host>/pacha_<phase>/. */
export function writeHook(masterDir: string, host: string, phase: 'pre' | 'post', name: string, body: string): void {
  const dir = path.join(masterDir, host, `pacha_${phase}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, name), `#!/bin/sh\nset -e\n${body}\n`);
  chmodSync(path.join(dir, name), 0o755);
}

/**
 * Like snapshot(), byte for byte: names and symlink targets as bytes (hex when not UTF-8),
 * special files with their device numbers, hard links as groups (the first path of each
 * inode's group within the tree).
 */
export function exactSnapshot(dir: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const firstOfInode = new Map<string, string>();
  const show = (bytes: Buffer): string => {
    const text = bytes.toString('utf8');
    return Buffer.from(text, 'utf8').equals(bytes) ? text : `hex:${bytes.toString('hex')}`;
  };
  const visit = (rel: Buffer): void => {
    const abs = rel.length === 0 ? Buffer.from(dir) : Buffer.concat([Buffer.from(`${dir}/`), rel]);
    const st = lstatSync(abs);
    const key = rel.length === 0 ? '.' : show(rel);
    const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : st.isSocket() ? 'socket' : 'other';
    const entry: Record<string, unknown> = { type, uid: st.uid, gid: st.gid };
    if (type !== 'symlink') entry.mode = (st.mode & 0o7777).toString(8);
    if (st.isFile()) {
      entry.content = createHash('sha256').update(readFileSync(abs)).digest('hex');
      const inode = `${st.dev}:${st.ino}`;
      if (st.nlink > 1) {
        if (!firstOfInode.has(inode)) firstOfInode.set(inode, key);
        entry.linkGroup = firstOfInode.get(inode);
      }
    }
    if (type === 'char' || type === 'block') entry.rdev = st.rdev;
    if (st.isSymbolicLink()) entry.target = show(readlinkSync(abs, { encoding: 'buffer' }));
    out[key] = entry;
    if (st.isDirectory()) {
      const names = readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare);
      for (const name of names) visit(rel.length === 0 ? name : Buffer.concat([rel, Buffer.from('/'), name]));
    }
  };
  visit(Buffer.alloc(0));
  return out;
}
