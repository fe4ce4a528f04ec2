// Property: whatever the target holds beforehand, a rebuild puts back exactly what was
// committed (names as bytes, types, content, modes, owners, symlink targets, hard-link
// groups, FIFOs, devices, user.* attributes), leaves the target's extras alone (README,
// Rebuild step 6) unless they sit in a directory the repository replaces, writes nothing
// outside the tracked path, and a second plan has nothing to do. A target with a symlink
// where the repository has a directory is refused (exit 1) with nothing touched at all.
// A random tree is watched, edited and pushed through the CLI and the local master; the
// target is then wiped, left, or mutated at random before `pacha rebuild --yes`.
// PACHA_PROP_RUNS, PACHA_PROP_SEED, PACHA_PROP_PATH (a failure's path) replay a case;
// PACHA_PROP_SHRINK=1 shrinks a failure (slow: every try runs the CLI); PACHA_PROP_SSH=1 goes
// through a real sshd instead of the local master.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lchownSync, linkSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { exactSnapshot } from '../../helpers/tree.js';
import { makeWorld, type World } from '../../helpers/world.js';

type Snapshot = Record<string, Record<string, unknown>>;
interface Owner {
  uid: number;
  gid: number;
}

// Accounts every Debian-like /etc/passwd and /etc/group has (pacha restores owners by name).
const OWNER = fc.record({ uid: fc.constantFrom(0, 1, 2, 65534), gid: fc.constantFrom(0, 1, 2, 65534) });
const FILE_MODE = fc.constantFrom(0o644, 0o600, 0o755, 0o640, 0o444, 0o000, 0o777, 0o4755, 0o2755, 0o6711, 0o1644);
const DIR_MODE = fc.constantFrom(0o755, 0o700, 0o750, 0o500, 0o000, 0o1777, 0o2775, 0o711);
const FIFO_MODE = fc.constantFrom(0o600, 0o620, 0o644, 0o000);

const b = (text: string): Buffer => Buffer.from(text);
const AWKWARD = [
  b('with space'),
  b('-leading-dash'),
  b('new\nline'),
  b('tab\there'),
  b(`"double" 'single'`),
  b('back\\slash\\x2d.mount'),
  b('é ü 日本'),
  Buffer.from([0x63, 0x61, 0x66, 0xe9]), // Latin-1 "café": not UTF-8
  Buffer.from([0xff, 0x2d, 0xfe]),
  b('L'.repeat(200)),
  b('.hidden'),
];
const NAME = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...AWKWARD) },
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_.-]{0,6}$/).map(b) },
);
const CONTENT = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.constantFrom(b('same\n'), b('a = 1\r\nb = 2\r\n'), b('# $Id$\n')),
  fc.string({ maxLength: 40 }).map(b),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
);
const XATTR = fc.option(fc.constantFrom('one', 'two', ''), { nil: undefined, freq: 3 });
const LINK_TARGET = fc.oneof(
  fc.constantFrom(b('sibling'), b('../up/there'), b('/etc/passwd'), b('/nonexistent/dangling'), b('.'), Buffer.from([0x74, 0xe9])),
  NAME,
);

type Spec =
  | { kind: 'file'; name: Buffer; content: Buffer; mode: number; owner: Owner; xattr: string | undefined }
  | { kind: 'dir'; name: Buffer; mode: number; owner: Owner; xattr: string | undefined; children: Spec[] }
  | { kind: 'symlink'; name: Buffer; target: Buffer; owner: Owner }
  | { kind: 'fifo' | 'char'; name: Buffer; mode: number; owner: Owner }
  | { kind: 'hardlink'; name: Buffer; pick: number };

function children(depth: number): fc.Arbitrary<Spec[]> {
  const leaf = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('file' as const), name: NAME, content: CONTENT, mode: FILE_MODE, owner: OWNER, xattr: XATTR }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('symlink' as const), name: NAME, target: LINK_TARGET, owner: OWNER }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('hardlink' as const), name: NAME, pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('fifo' as const, 'char' as const), name: NAME, mode: FIFO_MODE, owner: OWNER }) },
  );
  const entry: fc.Arbitrary<Spec> =
    depth >= 3
      ? leaf
      : fc.oneof(
          { weight: 4, arbitrary: leaf },
          { weight: 2, arbitrary: fc.record({ kind: fc.constant('dir' as const), name: NAME, mode: DIR_MODE, owner: OWNER, xattr: XATTR, children: children(depth + 1) }) },
        );
  return fc.uniqueArray(entry, { minLength: depth === 1 ? 2 : 0, maxLength: depth === 1 ? 8 : 5, selector: (s) => s.name.toString('hex') });
}

const MAX_ENTRIES = 30;

/** The tree of `root`'s children under `dir`, owner then mode (chown clears setuid), directories' modes last. */
function materialize(dir: string, specs: Spec[], rootMode: number, rootOwner: Owner): void {
  const files: Buffer[] = [];
  const withXattrs = new Set<Buffer>();
  const dirs: Array<{ at: Buffer; mode: number; owner: Owner; xattr: string | undefined }> = [];
  let count = 0;
  const make = (parent: Buffer, list: Spec[]): void => {
    for (const spec of list) {
      if (++count > MAX_ENTRIES) return;
      const at = Buffer.concat([parent, b('/'), spec.name]);
      switch (spec.kind) {
        case 'file':
          writeFileSync(at, spec.content);
          own(at, spec.owner, spec.mode);
          if (spec.xattr !== undefined && setXattr(at, 'user.prop', spec.xattr)) withXattrs.add(at);
          files.push(at);
          break;
        case 'dir':
          mkdirSync(at);
          make(at, spec.children);
          dirs.push({ at, mode: spec.mode, owner: spec.owner, xattr: spec.xattr });
          break;
        case 'symlink':
          symlinkSync(spec.target, at);
          lchownSync(at, spec.owner.uid, spec.owner.gid);
          break;
        case 'fifo':
        case 'char':
          mknod(at, spec.kind);
          own(at, spec.owner, spec.mode);
          break;
        case 'hardlink': {
          // A group's attributes are set through its first name, bytewise: one that is not UTF-8 is
          // reported (exit 4, as setXattr says), so a file with attributes gets no such name.
          const to = files[spec.pick % Math.max(1, files.length)];
          if (to === undefined || (withXattrs.has(to) && !utf8(at))) writeFileSync(at, 'lonely\n');
          else linkSync(to, at);
          break;
        }
      }
    }
  };
  make(b(dir), specs);
  for (const d of dirs) {
    own(d.at, d.owner, d.mode);
    if (d.xattr !== undefined) setXattr(d.at, 'user.prop', d.xattr);
  }
  own(b(dir), rootOwner, rootMode);
}

function own(at: Buffer | string, owner: Owner, mode: number): void {
  lchownSync(at, owner.uid, owner.gid);
  chmodSync(at, mode);
}

/** mknod(1) takes its name as a string: made under a plain name in the temp dir (the tree's filesystem), then renamed to its bytes. */
function mknod(at: Buffer, kind: 'fifo' | 'char'): void {
  const plain = path.join(os.tmpdir(), `pacha-prop-node-${process.pid}-${Math.random().toString(36).slice(2)}`);
  execFileSync('mknod', ['-m', '0600', plain, ...(kind === 'fifo' ? ['p'] : ['c', '1', '3'])]);
  renameSync(plain, at);
}

function utf8(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString('utf8')).equals(bytes);
}

/** Whether the attribute was set. */
function setXattr(at: Buffer | string, name: string, value: string): boolean {
  if (typeof at !== 'string' && !utf8(at)) return false; // setfattr takes names as strings: pacha reports those (exit 4)
  execFileSync('setfattr', ['-h', '-n', name, '-v', `"${value}"`, '--', at.toString()]);
  return true;
}

/** user.* attributes of an entry, or undefined where they cannot be read by name. */
function userXattrs(abs: Buffer): string | undefined {
  if (!utf8(abs)) return undefined;
  const out = execFileSync('getfattr', ['-h', '-d', '-m', '^user\\.', '-e', 'hex', '--absolute-names', '--', abs.toString()], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return out.split('\n').filter((l) => l.startsWith('user.')).sort().join(',');
}

/** exactSnapshot plus each file's and directory's user.* attributes. */
function fullSnapshot(dir: string): Snapshot {
  const snap = exactSnapshot(dir);
  for (const [key, entry] of Object.entries(snap)) {
    if (entry.type !== 'file' && entry.type !== 'dir') continue;
    const abs = key === '.' ? b(dir) : Buffer.concat([b(`${dir}/`), keyBytes(key)]);
    entry.xattrs = userXattrs(abs);
  }
  return snap;
}

function keyBytes(key: string): Buffer {
  return key.startsWith('hex:') ? Buffer.from(key.slice(4), 'hex') : b(key);
}

function withoutLinkGroups(snap: Snapshot): Snapshot {
  return Object.fromEntries(Object.entries(snap).map(([k, { linkGroup: _g, ...rest }]) => [k, rest]));
}

// ----- edits after the first commit, and the target's state before the rebuild -----

const EDIT = fc.record({
  op: fc.constantFrom('content', 'mode', 'owner', 'remove', 'add'),
  pick: fc.nat(),
  mode: FILE_MODE,
  owner: OWNER,
  content: CONTENT,
  name: NAME,
});
type Edit = typeof EDIT extends fc.Arbitrary<infer T> ? T : never;

const MUTATION = fc.record({
  op: fc.constantFrom(
    'content', 'mode', 'owner', 'xattr', 'extraFile', 'extraDir', 'fileToDir', 'dirToFile', 'toFifo',
    'symlinkInside', 'symlinkOutside', 'linkTogether', 'linkOutside', 'readonlyDir', 'remove', 'rootSymlink',
  ),
  pick: fc.nat(),
  pick2: fc.nat(),
  mode: fc.oneof(FILE_MODE, DIR_MODE),
  owner: OWNER,
  content: CONTENT,
  name: NAME,
});
type Mutation = typeof MUTATION extends fc.Arbitrary<infer T> ? T : never;

const PRE_STATE = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'wiped' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'as-committed' as const }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('mutated' as const), mutations: fc.array(MUTATION, { minLength: 1, maxLength: 6 }) }) },
);

/** Every path under dir (not '.'), as bytes relative to dir, parents before children. */
function listTree(dir: string): Array<{ rel: Buffer; abs: Buffer; type: 'dir' | 'file' | 'other' }> {
  const out: Array<{ rel: Buffer; abs: Buffer; type: 'dir' | 'file' | 'other' }> = [];
  const visit = (rel: Buffer | undefined): void => {
    const abs = rel ? Buffer.concat([b(`${dir}/`), rel]) : b(dir);
    const st = lstatSync(abs);
    if (rel) out.push({ rel, abs, type: st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other' });
    if (!st.isDirectory()) return;
    for (const name of readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare)) visit(rel ? Buffer.concat([rel, b('/'), name]) : name);
  };
  visit(undefined);
  return out;
}

function applyEdit(dir: string, edit: Edit): void {
  const all = listTree(dir);
  if (edit.op === 'add') {
    const parents = [b(dir), ...all.filter((e) => e.type === 'dir').map((e) => e.abs)];
    const at = Buffer.concat([parents[edit.pick % parents.length]!, b('/added-'), edit.name]);
    if (!existsSync(at)) writeFileSync(at, edit.content);
    return;
  }
  const files = all.filter((e) => e.type === 'file');
  const target = edit.op === 'remove' ? all[edit.pick % Math.max(all.length, 1)] : files[edit.pick % Math.max(files.length, 1)];
  if (!target) return;
  if (edit.op === 'content') writeFileSync(target.abs, edit.content);
  else if (edit.op === 'mode') chmodSync(target.abs, edit.mode);
  else if (edit.op === 'owner') own(target.abs, edit.owner, lstatSync(target.abs).mode & 0o7777);
  else if (edit.op === 'remove') rmSync(target.abs, { recursive: true, force: true });
}

/** One random change to the target before the rebuild. */
function applyMutation(dir: string, outside: string, m: Mutation, serial: number): void {
  const all = listTree(dir);
  const files = all.filter((e) => e.type === 'file');
  const dirs = all.filter((e) => e.type === 'dir');
  const anyPick = <T>(list: T[], n: number): T | undefined => (list.length ? list[n % list.length] : undefined);
  const entry = anyPick(all, m.pick);
  const file = anyPick(files, m.pick);
  const parentDir = anyPick([{ abs: b(dir) }, ...dirs], m.pick2)!.abs;
  const extraName = Buffer.concat([b(`extra${serial}-`), m.name]);
  switch (m.op) {
    case 'content':
      if (file) writeFileSync(file.abs, m.content);
      break;
    case 'mode':
      if (entry && entry.type !== 'other') chmodSync(entry.abs, m.mode);
      break;
    case 'owner':
      if (entry) lchownSync(entry.abs, m.owner.uid, m.owner.gid);
      break;
    case 'xattr':
      if (entry && entry.type !== 'other') setXattr(entry.abs, 'user.stray', `s${serial}`);
      break;
    case 'extraFile': {
      const at = Buffer.concat([parentDir, b('/'), extraName]);
      writeFileSync(at, m.content);
      own(at, m.owner, m.mode);
      break;
    }
    case 'extraDir': {
      const at = Buffer.concat([parentDir, b('/'), extraName]);
      mkdirSync(at);
      writeFileSync(Buffer.concat([at, b('/inside')]), 'extra\n');
      own(at, m.owner, 0o755);
      break;
    }
    case 'fileToDir':
      if (file) {
        rmSync(file.abs);
        mkdirSync(file.abs);
        writeFileSync(Buffer.concat([file.abs, b('/was-a-file')]), 'x\n');
        chmodSync(file.abs, 0o500);
      }
      break;
    case 'dirToFile': {
      const d = anyPick(dirs, m.pick);
      if (d) {
        rmSync(d.abs, { recursive: true });
        writeFileSync(d.abs, m.content);
      }
      break;
    }
    case 'toFifo':
      if (file) {
        rmSync(file.abs);
        mknod(file.abs, 'fifo');
      }
      break;
    case 'symlinkInside':
    case 'symlinkOutside':
      if (entry) {
        rmSync(entry.abs, { recursive: true });
        const inside = m.pick2 % 2 === 0 ? b(dir) : b('.');
        const to = m.op === 'symlinkInside' ? inside : b(path.join(outside, 'dir'));
        symlinkSync(to, entry.abs);
      }
      break;
    case 'linkTogether': {
      const other = anyPick(files, m.pick2);
      if (file && other && !file.abs.equals(other.abs)) {
        rmSync(other.abs);
        linkSync(file.abs, other.abs);
      }
      break;
    }
    case 'linkOutside':
      // The same bytes, mode and owner as the tracked file, but one inode with a file outside.
      if (file) {
        const victim = path.join(outside, `victim-${serial}`);
        copyFileSync(file.abs, victim);
        const st = lstatSync(file.abs);
        own(victim, st, st.mode & 0o7777);
        rmSync(file.abs);
        linkSync(victim, file.abs);
      }
      break;
    case 'readonlyDir': {
      const d = anyPick(dirs, m.pick);
      if (d) {
        writeFileSync(Buffer.concat([d.abs, b(`/ro-extra${serial}`)]), 'x\n');
        chmodSync(d.abs, m.pick2 % 2 ? 0o500 : 0o000);
      }
      break;
    }
    case 'remove':
      if (entry) rmSync(entry.abs, { recursive: true, force: true });
      break;
    case 'rootSymlink':
      // Rare: only when both picks agree, so most cases reach placing.
      if (m.pick % 5 === 0 && m.pick2 % 3 === 0) {
        rmSync(dir, { recursive: true });
        symlinkSync(path.join(outside, 'dir'), dir);
      }
      break;
  }
}

/** README, Rebuild step 4: a target with a symlink where the repository has a directory (or above an entry) is refused. */
function expectRefusal(dir: string, committed: Snapshot): boolean {
  const directories = Object.keys(committed).filter((k) => committed[k]!.type === 'dir');
  for (const key of directories) {
    const parts = key === '.' ? [] : key.split('/').map((p) => keyBytes(p));
    let at = b(dir);
    for (let i = 0; ; i++) {
      const st = lstatOrUndefined(at);
      if (!st) break;
      if (st.isSymbolicLink()) return true;
      if (!st.isDirectory() || i === parts.length) break;
      at = Buffer.concat([at, b('/'), parts[i]!]);
    }
  }
  return false;
}

function lstatOrUndefined(at: Buffer) {
  try {
    return lstatSync(at);
  } catch {
    return undefined;
  }
}

/**
 * What the target holds after the rebuild: every committed entry exactly, and the extras of
 * the pre-state that no replaced entry displaced (an extra survives unless one of its parents
 * is, in the repository, something other than a directory). An extra's hard-link group is not
 * its own business (its partner may have been replaced), so it is compared without it.
 */
/** A path's key in an exactSnapshot: itself, or its bytes in hex when they are not UTF-8. */
function snapshotKey(bytes: Buffer): string {
  return utf8(bytes) ? bytes.toString('utf8') : `hex:${bytes.toString('hex')}`;
}

function expectedAfter(committed: Snapshot, before: Snapshot): Snapshot {
  const expected: Snapshot = { ...committed };
  for (const [key, entry] of Object.entries(withoutLinkGroups(before))) {
    if (key in committed) continue;
    // Keys of paths that are not UTF-8 are their bytes in hex (exactSnapshot): parents by bytes.
    const bytes = key.startsWith('hex:') ? Buffer.from(key.slice(4), 'hex') : Buffer.from(key);
    let survives = true;
    for (let slash = bytes.indexOf(0x2f); slash >= 0; slash = bytes.indexOf(0x2f, slash + 1)) {
      const parent = committed[snapshotKey(bytes.subarray(0, slash))];
      if (parent && parent.type !== 'dir') survives = false;
    }
    if (survives) expected[key] = entry;
  }
  return expected;
}

function compareAfter(got: Snapshot, expected: Snapshot, committed: Snapshot): void {
  const extras = (s: Snapshot): Snapshot => Object.fromEntries(Object.entries(s).filter(([k]) => !(k in committed)));
  const tracked = (s: Snapshot): Snapshot => Object.fromEntries(Object.entries(s).filter(([k]) => k in committed));
  assert.deepEqual(tracked(got), committed, 'committed entries are back exactly');
  assert.deepEqual(withoutLinkGroups(extras(got)), extras(expected), 'extras are left alone');
}

function outsideSnapshot(outside: string): Snapshot {
  return withoutLinkGroups(fullSnapshot(outside));
}

interface Scenario {
  tree: Spec[];
  rootMode: number;
  rootOwner: Owner;
  edits: Edit[];
  pre: { kind: 'wiped' } | { kind: 'as-committed' } | { kind: 'mutated'; mutations: Mutation[] };
  keepState: boolean;
}

/** One case: watch, edit and push the tree, set the target's state, rebuild, and check. */
async function checkCase(world: World, s: Scenario, nextSerial: () => number): Promise<void> {
  const foo = path.join(world.root, 'etc/foo');
  const outside = path.join(world.dir, 'outside');
  mkdirSync(path.join(outside, 'dir'), { recursive: true });
  writeFileSync(path.join(outside, 'dir/keep'), 'outside\n');
  mkdirSync(foo, { recursive: true });
  materialize(foo, s.tree, s.rootMode, s.rootOwner);

  const watched = await world.pacha(['watch', foo]);
  assert.equal(watched.code, 0, watched.stderr);
  if (s.edits.length > 0) {
    for (const edit of s.edits) applyEdit(foo, edit);
    const pushed = await world.pacha(['push']);
    assert.equal(pushed.code, 0, pushed.stderr);
  }
  const committed = fullSnapshot(foo);

  if (s.pre.kind === 'wiped') rmSync(foo, { recursive: true, force: true });
  if (s.pre.kind === 'mutated') for (const m of s.pre.mutations) applyMutation(foo, outside, m, nextSerial());
  if (!s.keepState) rmSync(world.stateDir, { recursive: true, force: true });
  const refused = existsSync(foo) && expectRefusal(foo, committed);
  const before = existsSync(foo) && !lstatSync(foo).isSymbolicLink() ? fullSnapshot(foo) : undefined;
  const outsideBefore = outsideSnapshot(outside);

  const r = await world.pacha(['rebuild', 'bar', '--yes']);
  const output = `${r.stdout}\n${r.stderr}`;
  assert.deepEqual(readdirSync(world.root), ['etc']);
  assert.deepEqual(readdirSync(path.join(world.root, 'etc')), ['foo']);
  if (refused) {
    assert.equal(r.code, 1, output);
    assert.match(r.stderr, /symlink/);
    if (before) assert.deepEqual(fullSnapshot(foo), before, 'a refused rebuild touches nothing');
    assert.deepEqual(outsideSnapshot(outside), outsideBefore, 'nothing written outside the tracked path');
    return;
  }
  assert.equal(r.code, 0, output);
  assert.deepEqual(outsideSnapshot(outside), outsideBefore, 'nothing written outside the tracked path');
  const got = fullSnapshot(foo);
  compareAfter(got, expectedAfter(committed, before ?? {}), committed);
  const again = await world.pacha(['rebuild', 'bar', '--dry-run']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /foo → .*: 0 to create, 0 to replace, 0 mode\/owner to fix/);
}

const runs = Number(process.env.PACHA_PROP_RUNS ?? 25);
const overSsh = process.env.PACHA_PROP_SSH === '1'; // a real sshd per case: slower, not the default
const seed = process.env.PACHA_PROP_SEED === undefined ? undefined : Number(process.env.PACHA_PROP_SEED);

test('a rebuild puts back exactly what was committed, whatever the target held', { timeout: 600_000 }, async () => {
  const scenario = fc.record({
    tree: children(1),
    rootMode: fc.constantFrom(0o755, 0o750, 0o700, 0o2775),
    rootOwner: OWNER,
    edits: fc.array(EDIT, { maxLength: 3 }),
    pre: PRE_STATE,
    keepState: fc.boolean(),
  });
  let serial = 0;
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const world = await makeWorld({ ssh: overSsh });
      try {
        await checkCase(world, s, () => ++serial);
      } finally {
        await world.sshd?.stop();
      }
    }),
    {
      numRuns: runs,
      ...(seed === undefined ? {} : { seed }),
      ...(process.env.PACHA_PROP_PATH ? { path: process.env.PACHA_PROP_PATH } : {}),
      endOnFailure: process.env.PACHA_PROP_SHRINK !== '1',
      includeErrorInReport: true,
    },
  );
});
