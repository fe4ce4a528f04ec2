// A server-like tree's owners and modes, and an entry-by-entry account of a tree that a
// restore must reproduce exactly: type, mode, owner, group, size, content hash, link
// target, hard-link group and extended attributes (ACLs). Read outside the timed part.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lchownSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { prng } from './tree.js';

/** Accounts every Debian system has (pacha restores owners by name). */
const OWNERS: Array<[number, number]> = [
  [0, 0],
  [0, 0],
  [0, 4], // root:adm
  [33, 33], // www-data
  [1, 1], // daemon
  [65534, 65534], // nobody:nogroup
  [2, 50], // bin:staff
  [34, 42], // backup:shadow
];
const DIRECTORY_MODES = [0o755, 0o750, 0o700, 0o2775, 0o1777];

function walk(root: string): { files: string[]; directories: string[] } {
  const files: string[] = [];
  const directories: string[] = [];
  const visit = (rel: string): void => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      const stats = lstatSync(path.join(root, child));
      if (stats.isDirectory()) {
        directories.push(child);
        visit(child);
      } else if (stats.isFile()) files.push(child);
    }
  };
  visit('');
  return { files, directories };
}

export interface Realism {
  symlinks: number;
  hardLinks: number;
  emptyDirectories: number;
  setuid: number;
  acls: number;
}

/**
 * Turn a makeTree tree into what /etc or /srv holds on a real server: several owners and
 * groups, setuid/setgid and sticky bits, symlinks (relative, absolute, dangling), empty
 * directories, hard links and a few POSIX ACLs. Deterministic for a seed.
 */
export function addRealism(root: string, seed: number): Realism {
  const next = prng(seed);
  const { files, directories } = walk(root);
  const facts: Realism = { symlinks: 0, hardLinks: 0, emptyDirectories: 0, setuid: 0, acls: 0 };
  files.forEach((rel, i) => {
    const file = path.join(root, rel);
    const [uid, gid] = OWNERS[next() % OWNERS.length]!;
    lchownSync(file, uid, gid);
    if (i % 97 === 5) {
      chmodSync(file, 0o4755);
      facts.setuid++;
    } else if (i % 89 === 7) {
      chmodSync(file, 0o2750);
      facts.setuid++;
    } else if (i % 50 === 3) chmodSync(file, 0o400);
    const dir = path.dirname(file);
    if (i % 100 === 11) {
      symlinkSync(path.basename(file), path.join(dir, `link-${i}.conf`));
      symlinkSync('/etc/hostname', path.join(dir, `abs-${i}`));
      symlinkSync(`../missing-${i}`, path.join(dir, `dangling-${i}`));
      for (const name of [`link-${i}.conf`, `abs-${i}`, `dangling-${i}`]) lchownSync(path.join(dir, name), uid, gid);
      facts.symlinks += 3;
    }
    if (i % 500 === 13) {
      linkSync(file, path.join(dir, `hardlink-${i}.conf`));
      facts.hardLinks++;
    }
    if (i % 1000 === 17) {
      const empty = path.join(dir, `empty-${i}.d`);
      mkdirSync(empty, { mode: 0o700 });
      chmodSync(empty, 0o700);
      lchownSync(empty, 1, 1);
      facts.emptyDirectories++;
    }
  });
  // ACLs on a few files (an access ACL shows in the mode's group bits: set after chmod).
  for (const rel of files.filter((_, i) => i % 1000 === 21)) {
    const r = spawnSync('setfacl', ['-m', 'u:daemon:r--,g:adm:r--', path.join(root, rel)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`setfacl failed (Debian package acl): ${r.stderr || r.error?.message}`);
    facts.acls++;
  }
  // Directories last: a 0700 directory owned by someone else would not stop root anyway.
  directories.forEach((rel, i) => {
    const dir = path.join(root, rel);
    const [uid, gid] = OWNERS[(i * 3) % OWNERS.length]!;
    lchownSync(dir, uid, gid);
    chmodSync(dir, DIRECTORY_MODES[i % DIRECTORY_MODES.length]!);
  });
  lchownSync(root, 0, 33);
  chmodSync(root, 0o750);
  return facts;
}

/** Path → one comparable description per entry, the root itself as '.'. */
export type Account = Map<string, Entry>;
export interface Entry {
  type: 'dir' | 'file' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  /** Files: size and sha1; symlinks: the target. */
  content: string;
  /** Hard links: the first path (in sorted order) of the same inode. */
  linkOf?: string;
  /** Extended attributes (security.selinux left out), "name=value" sorted. */
  xattrs: string;
}

function xattrsUnder(root: string): Map<string, string> {
  const r = spawnSync('getfattr', ['--absolute-names', '--no-dereference', '--physical', '--recursive', '--dump', '--match=-', '--encoding=base64', '--', root], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (r.error) throw new Error(`getfattr: ${r.error.message} (Debian package attr)`);
  const out = new Map<string, string>();
  let current: string | undefined;
  const attrs: string[] = [];
  const flush = (): void => {
    if (current !== undefined && attrs.length) out.set(current, attrs.sort().join(' '));
    attrs.length = 0;
  };
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      flush();
      const abs = line.slice(8);
      current = abs === root ? '.' : path.relative(root, abs);
    } else if (line && !line.startsWith('security.selinux')) attrs.push(line);
  }
  flush();
  return out;
}

/** Everything at and under root. */
export function accountOf(root: string): Account {
  const out: Account = new Map();
  const inodes = new Map<string, string>();
  const xattrs = xattrsUnder(root);
  const visit = (rel: string): void => {
    const absolute = rel === '.' ? root : path.join(root, rel);
    const stats = lstatSync(absolute);
    const entry: Entry = { type: 'other', mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid, content: '', xattrs: xattrs.get(rel) ?? '' };
    if (stats.isDirectory()) entry.type = 'dir';
    else if (stats.isSymbolicLink()) {
      entry.type = 'symlink';
      entry.mode = 0o777;
      entry.content = readlinkSync(absolute);
    } else if (stats.isFile()) {
      entry.type = 'file';
      entry.content = `${stats.size} ${createHash('sha1').update(readFileSync(absolute)).digest('hex')}`;
      if (stats.nlink > 1) {
        const key = `${stats.dev}:${stats.ino}`;
        const first = inodes.get(key);
        if (first === undefined) inodes.set(key, rel);
        else entry.linkOf = first;
      }
    }
    out.set(rel, entry);
    if (entry.type === 'dir') {
      for (const name of readdirSync(absolute).sort()) visit(rel === '.' ? name : `${rel}/${name}`);
    }
  };
  visit('.');
  return out;
}

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');
const describe = (e: Entry | undefined): string =>
  e ? `${e.type} ${octal(e.mode)} ${e.uid}:${e.gid} ${e.content}${e.linkOf ? ` =${e.linkOf}` : ''}${e.xattrs ? ` [${e.xattrs}]` : ''}` : 'nothing';

export interface Differences {
  /** Entries missing, extra, of another type, other content or link target. */
  content: string[];
  modes: number;
  owners: number;
  hardLinks: number;
  xattrs: number;
  /** The first few differences of any kind, for a message. */
  examples: string[];
}

/** How `actual` differs from `expected`, counted by kind. */
export function differences(expected: Account, actual: Account): Differences {
  const d: Differences = { content: [], modes: 0, owners: 0, hardLinks: 0, xattrs: 0, examples: [] };
  const note = (p: string, want: Entry | undefined, got: Entry | undefined): void => {
    if (d.examples.length < 5) d.examples.push(`${p}: expected ${describe(want)}, found ${describe(got)}`);
  };
  for (const [p, want] of expected) {
    const got = actual.get(p);
    if (!got || got.type !== want.type || got.content !== want.content) {
      d.content.push(p);
      note(p, want, got);
      continue;
    }
    let differs = false;
    if (got.mode !== want.mode) (d.modes++, (differs = true));
    if (got.uid !== want.uid || got.gid !== want.gid) (d.owners++, (differs = true));
    if (got.linkOf !== want.linkOf) (d.hardLinks++, (differs = true));
    if (got.xattrs !== want.xattrs) (d.xattrs++, (differs = true));
    if (differs) note(p, want, got);
  }
  for (const p of actual.keys()) {
    if (!expected.has(p)) {
      d.content.push(p);
      note(p, undefined, actual.get(p));
    }
  }
  return d;
}

export function isExact(d: Differences): boolean {
  return d.content.length + d.modes + d.owners + d.hardLinks + d.xattrs === 0;
}

/** "2,511 modes, 725 owners, 12 hard links, 6 ACLs, 5 entries (empty directories …) wrong". */
export function formatDifferences(d: Differences): string {
  const parts = [
    [d.modes, 'modes'],
    [d.owners, 'owners'],
    [d.hardLinks, 'hard links'],
    [d.xattrs, 'xattrs/ACLs'],
    [d.content.length, 'entries missing or different'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, what]) => `${(n as number).toLocaleString('en-US')} ${what}`);
  return parts.length ? `${parts.join(', ')} wrong` : 'exact';
}
