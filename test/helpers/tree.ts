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
