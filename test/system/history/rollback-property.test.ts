// `pacha rollback` and `pacha show --at` against what the commits really recorded, over random
// trees and random histories (history-cli.test.ts checks fixed steps; this looks for the
// histories nobody thought of). A small tracked directory with awkward names (a space, a
// leading dash, a tab, a newline, quotes, non-ASCII, a name that is not UTF-8), files empty,
// text and binary, modes with setuid/setgid, owners 0/1/2/65534, symlinks, hard links and empty
// directories goes through 2–6 commits (`pacha push` after each batch of random changes); the
// exact state after each is kept (helpers/tree.ts exactSnapshot). Then, for a random earlier
// commit k, one of:
// - the whole tracked path rolled back to k: the tree is snapshot k exactly, a new commit is
//   on the master's branch, and rolling back to the commit before it gives back what was;
// - one entry (a file, symlink or directory, present at k or not) rolled back to k: that
//   entry is as at k (gone when it did not exist then: README, "moves what did not exist at
//   that revision to <state>/backups/"), and every other path is untouched;
// - `pacha show FILE --at k`: the bytes it had at k.
// A --dry-run of the same rollback first must change nothing and commit nothing.
//
// REV is written as the README documents it: a commit id (whole or a prefix) or HEAD~n.
// Entries named on the command line have UTF-8 names: node passes argv as UTF-8, so a name
// that is not can be held by a tracked tree but not given as PATH.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, lchownSync, linkSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { byteOrder } from '../../../src/fs/byte-order.js';
import { decodeName, fsPath } from '../../../src/fs/names.js';
import { exactSnapshot } from '../../helpers/tree.js';
import { CLI, makeWorld, type World } from '../../helpers/world.js';

type Snap = Record<string, Record<string, unknown>>;

// ---- names and operations

const NOT_UTF8 = decodeName(Buffer.from([0x6e, 0xff, 0x2d, 0xe9]));
const NAMES = ['a', 'b', 'with space', '-dash', 'tab\there', 'new\nline', `q"u'ote`, 'ünï', NOT_UTF8];
const MODES = [0o644, 0o600, 0o755, 0o700, 0o4755, 0o2750, 0o640];
const IDS = [0, 1, 2, 65534];

type Op =
  | { kind: 'write'; dir: number; name: string; content: 'empty' | 'text' | 'binary' }
  | { kind: 'mkdir'; name: string }
  | { kind: 'symlink'; dir: number; name: string; to: number; dangling: boolean }
  | { kind: 'link'; file: number; dir: number; name: string }
  | { kind: 'unlink-copy'; entry: number }
  | { kind: 'chmod'; entry: number; mode: number }
  | { kind: 'chown'; entry: number; uid: number; gid: number }
  | { kind: 'rename'; entry: number; dir: number; name: string }
  | { kind: 'rm'; entry: number }
  | { kind: 'file-to-dir'; entry: number }
  | { kind: 'dir-to-file'; entry: number }
  | { kind: 'to-symlink'; entry: number };

const pick = fc.nat({ max: 1000 });
const name = fc.constantFrom(...NAMES);
const constructive: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), dir: pick, name, content: fc.constantFrom('empty' as const, 'text' as const, 'binary' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mkdir' as const), name }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('symlink' as const), dir: pick, name, to: pick, dangling: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('link' as const), file: pick, dir: pick, name }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('chmod' as const), entry: pick, mode: fc.constantFrom(...MODES) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('chown' as const), entry: pick, uid: fc.constantFrom(...IDS), gid: fc.constantFrom(...IDS) }) },
);
const anyOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: constructive },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unlink-copy' as const), entry: pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('rename' as const), entry: pick, dir: pick, name }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('rm' as const), entry: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('file-to-dir' as const), entry: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dir-to-file' as const), entry: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('to-symlink' as const), entry: pick }) },
);

type Check = { kind: 'whole' } | { kind: 'entry'; entry: number } | { kind: 'show'; entry: number };
const program = fc.record({
  setup: fc.array(constructive, { minLength: 3, maxLength: 14 }),
  batches: fc.array(fc.array(anyOp, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 5 }),
  k: pick,
  rev: fc.constantFrom('sha' as const, 'prefix' as const, 'head' as const),
  check: fc.oneof(
    { weight: 2, arbitrary: fc.constant({ kind: 'whole' } as Check) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('entry' as const), entry: pick }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('show' as const), entry: pick }) },
  ),
});

// ---- the tree

const show = (rel: string): string => JSON.stringify(rel);

interface Listed {
  rel: string;
  stats: Stats;
}

class Tree {
  private writes = 0;
  constructor(readonly dir: string) {}

  abs(rel: string): string | Buffer {
    return fsPath(rel === '.' ? this.dir : `${this.dir}/${rel}`);
  }

  lstat(rel: string): Stats | undefined {
    return lstatSync(this.abs(rel), { throwIfNoEntry: false });
  }

  /** Every entry, '.' first, then in byte order: a pick names the same entry for the same tree. */
  list(): Listed[] {
    const out: Listed[] = [{ rel: '.', stats: lstatSync(this.dir) }];
    const walk = (dir: string): void => {
      for (const n of readdirSync(this.abs(dir), { encoding: 'buffer' }).map(decodeName).sort(byteOrder)) {
        const rel = dir === '.' ? n : `${dir}/${n}`;
        const stats = lstatSync(this.abs(rel));
        out.push({ rel, stats });
        if (stats.isDirectory()) walk(rel);
      }
    };
    walk('.');
    return out;
  }

  /** Carry out one operation (two levels at most: directories only at the top); what it did. */
  run(op: Op): string {
    const entries = this.list();
    const choose = <T>(list: T[], k: number): T | undefined => (list.length === 0 ? undefined : list[k % list.length]);
    const dirs = entries.filter((e) => e.stats.isDirectory() && !e.rel.includes('/'));
    const under = (dir: string, n: string): string => (dir === '.' ? n : `${dir}/${n}`);
    const others = entries.filter((e) => e.rel !== '.');
    switch (op.kind) {
      case 'write': {
        const rel = under(choose(dirs, op.dir)!.rel, op.name);
        const stats = this.lstat(rel);
        if (stats && !stats.isFile()) return `skip write ${show(rel)}: not a file`;
        const data = op.content === 'empty' ? '' : op.content === 'binary' ? Buffer.from([0, 255, 10, 13, 0x80, 0xc3, this.writes++ & 0xff]) : `text ${this.writes++}\n`;
        writeFileSync(this.abs(rel), data); // in place: a hard link's other names see it
        return `write ${op.content} ${show(rel)}`;
      }
      case 'mkdir': {
        if (this.lstat(op.name)) return `skip mkdir ${show(op.name)}: exists`;
        mkdirSync(this.abs(op.name));
        return `mkdir ${show(op.name)}`;
      }
      case 'symlink': {
        const rel = under(choose(dirs, op.dir)!.rel, op.name);
        if (this.lstat(rel)) return `skip symlink ${show(rel)}: exists`;
        const to = choose(others, op.to)?.rel ?? 'nothing';
        const target = op.dangling ? `/no/such/${NOT_UTF8}` : path.posix.relative(path.posix.dirname(rel), to) || '.';
        symlinkSync(fsPath(target), this.abs(rel));
        return `symlink ${show(rel)} -> ${show(target)}`;
      }
      case 'link': {
        const file = choose(
          others.filter((e) => e.stats.isFile()),
          op.file,
        );
        if (!file) return 'skip link: no file';
        const rel = under(choose(dirs, op.dir)!.rel, op.name);
        if (this.lstat(rel)) return `skip link ${show(rel)}: exists`;
        linkSync(this.abs(file.rel), this.abs(rel));
        return `ln ${show(file.rel)} ${show(rel)}`;
      }
      case 'unlink-copy': {
        // A hard link broken: the name becomes a copy of its own (same bytes, a new inode).
        const e = choose(
          others.filter((x) => x.stats.isFile() && x.stats.nlink > 1),
          op.entry,
        );
        if (!e) return 'skip unlink-copy: no hard link';
        const temp = path.join(this.dir, '..', 'copy');
        copyFileSync(this.abs(e.rel), temp);
        renameSync(temp, this.abs(e.rel));
        return `hard link ${show(e.rel)} broken (a copy)`;
      }
      case 'chmod': {
        const e = choose(
          entries.filter((x) => !x.stats.isSymbolicLink()),
          op.entry,
        )!;
        chmodSync(this.abs(e.rel), op.mode);
        return `chmod ${op.mode.toString(8)} ${show(e.rel)}`;
      }
      case 'chown': {
        const e = choose(entries, op.entry)!;
        lchownSync(this.abs(e.rel), op.uid, op.gid);
        return `chown ${op.uid}:${op.gid} ${show(e.rel)}`;
      }
      case 'rename': {
        const e = choose(others, op.entry);
        if (!e) return 'skip rename: nothing';
        const to = under(e.stats.isDirectory() ? '.' : choose(dirs, op.dir)!.rel, op.name);
        const over = this.lstat(to);
        if (to === e.rel || over?.isDirectory() || (over && e.stats.isDirectory())) return `skip rename ${show(e.rel)} ${show(to)}`;
        renameSync(this.abs(e.rel), this.abs(to));
        return `mv ${show(e.rel)} ${show(to)}`;
      }
      case 'rm': {
        const e = choose(others, op.entry);
        if (!e) return 'skip rm: nothing';
        rmSync(this.abs(e.rel), { recursive: true });
        return `rm -r ${show(e.rel)}`;
      }
      case 'file-to-dir': {
        const e = choose(
          others.filter((x) => !x.stats.isDirectory() && !x.rel.includes('/')),
          op.entry,
        );
        if (!e) return 'skip file-to-dir';
        unlinkSync(this.abs(e.rel));
        mkdirSync(this.abs(e.rel));
        writeFileSync(this.abs(`${e.rel}/inner`), 'inner\n');
        return `${show(e.rel)} replaced by a directory holding a file`;
      }
      case 'dir-to-file': {
        const e = choose(
          others.filter((x) => x.stats.isDirectory()),
          op.entry,
        );
        if (!e) return 'skip dir-to-file';
        rmSync(this.abs(e.rel), { recursive: true });
        writeFileSync(this.abs(e.rel), 'was a directory\n');
        return `directory ${show(e.rel)} replaced by a file`;
      }
      case 'to-symlink': {
        const e = choose(
          others.filter((x) => !x.stats.isSymbolicLink()),
          op.entry,
        );
        if (!e) return 'skip to-symlink';
        rmSync(this.abs(e.rel), { recursive: true });
        symlinkSync('/etc/hosts', this.abs(e.rel));
        return `${show(e.rel)} replaced by a symlink`;
      }
    }
  }
}

// ---- the CLI

async function ok(world: World, args: string[], story: string): Promise<string> {
  const r = await world.pacha(args);
  assert.equal(r.code, 0, `pacha ${args.map(show).join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}${story}`);
  return r.stdout;
}

/** The commit ids of the tracked path, newest first. */
async function commits(world: World, location: string, story: string): Promise<string[]> {
  return (JSON.parse(await ok(world, ['log', location, '--json'], story)) as { commits: Array<{ sha: string }> }).commits.map((c) => c.sha);
}

/** The tip of the master's branch for this tracked path (a local master: a git working copy). */
const masterTip = (world: World, name: string): string => execFileSync('git', ['-C', path.join(world.masterDir, 'bar', name), 'rev-parse', 'main']).toString().trim();

/** Entry paths of a snapshot in the scope of `entry` (itself and what is beneath it). */
const inEntry = (entry: string, key: string): boolean => entry === '.' || key === entry || key.startsWith(`${entry}/`);

/**
 * The snapshot with hard-link groups as groups within the tree: a file whose other names are
 * all outside it (a backup of a link moved aside keeps the inode) is a file of its own here.
 */
function exact(dir: string): Snap {
  const snap = exactSnapshot(dir);
  const members = new Map<unknown, number>();
  for (const e of Object.values(snap)) if (e.linkGroup !== undefined) members.set(e.linkGroup, (members.get(e.linkGroup) ?? 0) + 1);
  for (const e of Object.values(snap)) if (e.linkGroup !== undefined && members.get(e.linkGroup) === 1) delete e.linkGroup;
  return snap;
}

/** The snapshot without the keys in (or out of) the scope, hard-link groups left out (an entry's group spans the scope's edge). */
function part(snap: Snap, keep: (key: string) => boolean): Snap {
  const out: Snap = {};
  for (const [key, value] of Object.entries(snap)) {
    if (!keep(key)) continue;
    const { linkGroup: _, ...rest } = value;
    out[key] = rest;
  }
  return out;
}

/**
 * What a rollback of `scope` from `present` to `past` refuses, touching nothing (rebuild/plan.ts):
 * a hard link whose group's first member is outside the scope (it cannot be placed alone), and
 * a directory then that is a symlink now (pacha never replaces one nor writes through it).
 */
function refusalOf(scope: string, past: Snap, present: Snap): RegExp | undefined {
  const entries = Object.entries(past);
  if (entries.some(([key, e]) => inEntry(scope, key) && typeof e.linkGroup === 'string' && !inEntry(scope, e.linkGroup))) return /hard link to .*which is not placed/;
  if (entries.some(([key, e]) => (inEntry(scope, key) || scope.startsWith(`${key}/`)) && e.type === 'dir' && present[key]?.type === 'symlink')) {
    return /the target has a symlink where the repository has a directory/;
  }
  return undefined;
}

// ---- the property

const tally = { runs: 0, commits: 0, whole: 0, entry: 0, absent: 0, refused: 0, show: 0 };

type Program = typeof program extends fc.Arbitrary<infer T> ? T : never;

async function check(input: Program): Promise<void> {
  tally.runs++;
  const world = await makeWorld({ ssh: false });
  const name = `t${tally.runs}`;
  const location = path.join(world.root, 'srv', name);
  mkdirSync(location, { recursive: true });
  const tree = new Tree(location);
  const log: string[] = ['setup:'];
  const story = (): string => `\n${log.join('\n')}\n`;
  for (const op of input.setup) log.push(`  ${tree.run(op)}`);
  await ok(world, ['watch', location], story());

  // After each commit: its id and the exact tree.
  const history: Array<{ sha: string; snap: Snap }> = [];
  const record = async (): Promise<void> => {
    const sha = (await commits(world, location, story()))[0]!;
    if (history.at(-1)?.sha !== sha) history.push({ sha, snap: exact(location) });
    log.push(`  -> commit ${history.length - 1}: ${sha.slice(0, 12)}`);
  };
  await record();
  for (const [i, ops] of input.batches.entries()) {
    log.push(`batch ${i + 1}:`);
    for (const op of ops) log.push(`  ${tree.run(op)}`);
    await ok(world, ['push'], story());
    await record();
  }
  tally.commits += history.length;
  if (history.length < 2) return;
  const ids = await commits(world, location, story());
  const k = input.k % (history.length - 1); // an earlier commit than the last
  const target = history[k]!;
  const rev = input.rev === 'sha' ? target.sha : input.rev === 'prefix' ? target.sha.slice(0, 12) : `HEAD~${ids.indexOf(target.sha)}`;
  const now = exact(location);
  const head = ids[0]!;
  log.push(`REV ${rev} (commit ${k})`);

  if (input.check.kind === 'show') {
    // Snapshot keys are the paths as text, `hex:…` for those that are not UTF-8 (not given as PATH).
    const files = Object.keys(target.snap).filter((key) => target.snap[key]!.type === 'file' && !key.startsWith('hex:'));
    if (files.length === 0) return;
    const rel = files[input.check.entry % files.length]!;
    tally.show++;
    log.push(`show ${show(rel)} --at ${rev}`);
    const r = spawnSync(process.execPath, [CLI, '-c', world.config, 'show', path.join(location, rel), '--at', rev], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
    });
    assert.equal(r.status, 0, `show: ${r.stderr.toString()}${story()}`);
    assert.equal(createHash('sha256').update(r.stdout).digest('hex'), target.snap[rel]!.content, `show prints the bytes at ${rev}${story()}`);
    return;
  }

  // The scope: the whole path, or one entry that exists now or existed at k.
  let scope = '.';
  if (input.check.kind === 'entry') {
    const candidates = [...new Set([...Object.keys(now), ...Object.keys(target.snap)])].filter((key) => key !== '.' && !key.startsWith('hex:')).sort();
    if (candidates.length === 0) return;
    scope = candidates[input.check.entry % candidates.length]!;
  }
  const argument = scope === '.' ? location : path.join(location, scope);
  log.push(`rollback ${show(scope)} --to ${rev}`);

  const refusal = refusalOf(scope, target.snap, now);
  const dry = await world.pacha(['rollback', argument, '--to', rev, '--dry-run']);
  assert.equal(dry.code, refusal ? 1 : 0, `dry run: ${dry.stderr}${story()}`);
  assert.deepEqual(exact(location), now, `a dry run changes nothing${story()}`);
  assert.deepEqual(await commits(world, location, story()), ids, `a dry run commits nothing${story()}`);

  const r = await world.pacha(['rollback', argument, '--to', rev, '--json']);
  if (refusal) {
    tally.refused++;
    assert.equal(r.code, 1, `refused: ${r.stderr}${story()}`);
    assert.match(r.stderr, refusal, story());
    assert.deepEqual(exact(location), now, `a refused rollback changes nothing${story()}`);
    assert.deepEqual(await commits(world, location, story()), ids, `a refused rollback commits nothing${story()}`);
    return;
  }
  assert.equal(r.code, 0, `rollback exited ${r.code}: ${r.stderr}${r.stdout}${story()}`);
  const after = exact(location);
  const result = JSON.parse(r.stdout) as { commit: { sha: string } | null; noop: boolean };

  if (scope === '.') {
    tally.whole++;
    assert.deepEqual(after, target.snap, `the tree is as at ${rev}${story()}`);
  } else {
    tally.entry++;
    if (!(scope in target.snap)) tally.absent++;
    const key = scope;
    // Directories above the entry are only created when missing (rollback-plan.ts).
    const above = (k: string): boolean => key.startsWith(`${k}/`);
    assert.deepEqual(part(after, (k) => inEntry(key, k)), part(target.snap, (k) => inEntry(key, k)), `${show(scope)} is as at ${rev}${story()}`);
    assert.deepEqual(
      part(after, (k) => !inEntry(key, k) && !(above(k) && now[k]?.type !== 'dir')),
      part(now, (k) => !inEntry(key, k) && !(above(k) && now[k]?.type !== 'dir')),
      `every other path is untouched${story()}`,
    );
  }

  const changed = JSON.stringify(after) !== JSON.stringify(now);
  const afterIds = await commits(world, location, story());
  if (!changed) return;
  assert.ok(result.commit, `a rollback that changed the tree makes a commit${story()}`);
  assert.equal(afterIds[0], result.commit.sha, `the rollback commit is the newest${story()}`);
  assert.deepEqual(afterIds.slice(1), ids, `history is not rewritten${story()}`);
  assert.equal(masterTip(world, name), result.commit.sha, `the rollback commit is on the master's branch${story()}`);

  if (scope === '.') {
    // And back: the rollback is itself rolled back.
    log.push(`rollback . --to ${head.slice(0, 12)} (the commit before the rollback)`);
    const back = await world.pacha(['rollback', location, '--to', head]);
    const refused = refusalOf('.', now, after);
    assert.equal(back.code, refused ? 1 : 0, `rollback to the commit before the rollback: ${back.stderr}${story()}`);
    assert.deepEqual(exact(location), refused ? after : now, `rolling back to the commit before the rollback gives back what was${story()}`);
  }
}

/** PACHA_PROPERTY_RUNS times the runs (to search longer); PACHA_PROPERTY_SEED and PACHA_PROPERTY_PATH replay a failure. */
const RUNS = Number(process.env.PACHA_PROPERTY_RUNS ?? 1);
const replay = {
  ...(process.env.PACHA_PROPERTY_SEED ? { seed: Number(process.env.PACHA_PROPERTY_SEED) } : {}),
  ...(process.env.PACHA_PROPERTY_PATH ? { path: process.env.PACHA_PROPERTY_PATH } : {}),
};

test('rollback and show --at put back exactly what a past commit recorded, over random histories', async (t) => {
  const started = Date.now();
  // The first failure as it happened: shrinking re-runs whole histories and can take minutes.
  let told = false;
  const checkTelling = async (input: Program): Promise<void> =>
    check(input).catch((error: unknown) => {
      if (!told) console.error(`first failure, before shrinking: ${JSON.stringify(input)}\n${(error as Error).message}`);
      told = true;
      throw error;
    });
  await fc.assert(fc.asyncProperty(program, checkTelling), { numRuns: 14 * RUNS, includeErrorInReport: true, ...replay });
  t.diagnostic(`${JSON.stringify(tally)}; ${Date.now() - started} ms`);
  assert.ok(tally.whole + tally.entry > 0);
});
