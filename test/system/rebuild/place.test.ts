// Placement on the real filesystem, as root: modes, owners, contents and symlinks restored
// exactly; a second run writes nothing; displaced files are kept; symlinked directories
// and escaping paths are refused with nothing written.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { OperationError } from '../../../src/errors.js';
import { inspectAndPlan } from '../../../src/rebuild/rebuild.js';
import { loadTargetAccounts, recordedNames } from '../../../src/rebuild/owners.js';
import { backupDirFor, placeRepository, type PlaceProgress } from '../../../src/rebuild/place.js';
import { validateMetadata } from '../../../src/rebuild/validate.js';
import type { Metadata } from '../../../src/store/metadata.js';
import { tempDir } from '../../helpers/tmp.js';
import { createTestAccount, crashStoryEntries, ROOT, stageRepository, type StagedEntry, type TestAccount } from './fixture.js';

const account = createTestAccount();
let clock = Date.UTC(2026, 0, 1);

/** Validate, inspect, plan and place one repository, as a rebuild does. */
async function rebuild(stageTree: string, metadata: Metadata, root: string, stateDir: string, consumeStage = false) {
  const validated = validateMetadata(JSON.parse(JSON.stringify(metadata)), 'foo');
  const accounts = await loadTargetAccounts(root, recordedNames(validated.entries));
  const plan = await inspectAndPlan({ repository: 'foo', metadata: validated, stageTree, root, accounts });
  const progress: PlaceProgress[] = [];
  const backupDir = backupDirFor(stateDir, new Date((clock += 1000)));
  const result = await placeRepository(plan, { root, backupDir, consumeStage, onProgress: (p) => progress.push(p) });
  return { plan, result, progress, backupDir };
}

interface Setup {
  dir: string;
  stageTree: string;
  stateDir: string;
  location: string;
  entries: StagedEntry[];
  metadata: Metadata;
}

function setup(entries: StagedEntry[] = crashStoryEntries(account)): Setup {
  const dir = tempDir('pacha-place-');
  const stageTree = path.join(dir, 'state/stage/foo/tree');
  const location = path.join(dir, 'host/opt/foo');
  return { dir, stageTree, stateDir: path.join(dir, 'state'), location, entries, metadata: stageRepository(stageTree, location, entries) };
}

function idsOf(entry: StagedEntry, who: TestAccount): { uid: number; gid: number } {
  const id = (owner: StagedEntry['user'], name: string, real: number) => (owner.name === name ? real : owner.name === 'root' ? 0 : owner.id);
  return { uid: id(entry.user, who.user, who.uid), gid: id(entry.group, who.group, who.gid) };
}

/** Every entry lstat'ed in the target: type, full mode, owner, bytes, link target. */
function assertPlacedExactly(targetRoot: string, entries: StagedEntry[]): void {
  for (const entry of entries) {
    const file = entry.path === '.' ? targetRoot : path.join(targetRoot, entry.path);
    const stats = lstatSync(file);
    const { uid, gid } = idsOf(entry, account);
    const label = `${entry.path}: `;
    if (entry.type === 'file') {
      assert.ok(stats.isFile(), `${label}not a file`);
      assert.deepEqual(readFileSync(file), entry.content, `${label}content`);
    }
    if (entry.type === 'directory') assert.ok(stats.isDirectory(), `${label}not a directory`);
    if (entry.type === 'symlink') {
      assert.ok(stats.isSymbolicLink(), `${label}not a symlink`);
      assert.equal(readlinkSync(file), entry.target, `${label}link target`);
    } else {
      assert.equal((stats.mode & 0o7777).toString(8), entry.mode.toString(8), `${label}mode`);
    }
    assert.equal(stats.uid, uid, `${label}uid`);
    assert.equal(stats.gid, gid, `${label}gid`);
  }
}

/** Every path under a directory with its inode, mtime and ctime (ctime moves on chmod/chown too). */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    const stats = lstatSync(path.join(root, rel));
    out.set(rel, `${stats.ino}:${stats.mtimeMs}:${stats.ctimeMs}:${stats.mode}:${stats.uid}:${stats.gid}`);
    if (stats.isDirectory()) for (const name of readdirSync(path.join(root, rel))) walk(path.join(rel, name));
  };
  walk('.');
  return out;
}

function assertUnsafe(error: unknown, pathPart: string): true {
  assert.ok(error instanceof OperationError, String(error));
  assert.equal(error.code, 'EUNSAFE');
  assert.ok(error.message.includes(pathPart), error.message);
  return true;
}

describe('placeRepository', () => {
  it('places every kind of entry into an empty target, exactly; a second run writes nothing', async () => {
    const s = setup();
    const first = await rebuild(s.stageTree, s.metadata, '/', s.stateDir);
    assert.equal(first.plan.targetRoot, s.location);
    assertPlacedExactly(s.location, s.entries);
    assert.deepEqual(readdirSync(path.join(s.location, 'empty')), []);
    assert.equal(first.result.written, s.entries.length);
    assert.equal(first.result.unchanged, 0);
    assert.equal(first.result.backedUp, 0);
    assert.deepEqual(first.result.ownersNotFound, []);
    assert.equal(first.result.bytes, s.entries.reduce((n, e) => n + (e.content?.length ?? 0), 0));
    assert.equal(first.progress.length, s.entries.length);
    assert.deepEqual(new Set(first.progress.map((p) => p.path)), new Set(s.entries.map((e) => e.path)));
    assert.equal(existsSync(first.backupDir), false, 'nothing was displaced, so no backup dir');

    const before = snapshot(s.location);
    const second = await rebuild(s.stageTree, s.metadata, '/', s.stateDir);
    assert.deepEqual(second.plan.counts, { create: 0, replace: 0, 'update-metadata': 0, unchanged: s.entries.length, skip: 0 });
    assert.equal(second.result.written, 0);
    assert.equal(second.result.metadataUpdated, 0);
    assert.equal(second.result.unchanged, s.entries.length);
    assert.equal(second.result.bytes, 0);
    assert.deepEqual(snapshot(s.location), before, 'an inode, mtime, ctime or mode changed (or a temp file was left)');
  });

  it('a changed file is backed up then replaced; a mode change alone is fixed in place; extras are left alone', async () => {
    const s = setup();
    await rebuild(s.stageTree, s.metadata, '/', s.stateDir);
    const bigFile = path.join(s.location, 'big.bin');
    const oldBig = readFileSync(bigFile);
    const edited = Buffer.from(oldBig);
    edited[edited.length - 1] = (edited.at(-1)! + 1) % 256; // same size, last byte differs: found only by reading it all
    writeFileSync(bigFile, edited);
    writeFileSync(path.join(s.location, 'public.txt'), 'tampered\n');
    chmodSync(path.join(s.location, 'secret.key'), 0o644);
    const secretIno = lstatSync(path.join(s.location, 'secret.key')).ino;
    rmSync(path.join(s.location, 'link'));
    mkdirSync(path.join(s.location, 'link')); // a directory where a symlink goes
    writeFileSync(path.join(s.location, 'link/kept'), 'keep me\n');
    writeFileSync(path.join(s.location, 'local.extra'), 'mine\n');
    rmSync(path.join(s.location, 'bin'), { recursive: true });
    writeFileSync(path.join(s.location, 'bin'), 'a file where a directory goes\n');

    const { plan, result, backupDir } = await rebuild(s.stageTree, s.metadata, '/', s.stateDir);
    const action = (p: string) => plan.entries.find((e) => e.path === p)?.action;
    assert.deepEqual(
      [action('big.bin'), action('public.txt'), action('secret.key'), action('link'), action('bin'), action('bin/tool')],
      ['replace', 'replace', 'update-metadata', 'replace', 'replace', 'create'],
    );
    assert.deepEqual(plan.extras, ['local.extra']);
    assertPlacedExactly(s.location, s.entries);
    assert.equal(lstatSync(path.join(s.location, 'secret.key')).ino, secretIno, 'a mode fix must not rewrite the file');
    assert.equal(readFileSync(path.join(s.location, 'local.extra'), 'utf8'), 'mine\n');
    assert.deepEqual([result.written, result.metadataUpdated, result.backedUp], [6, 1, 4]);

    const kept = path.join(backupDir, s.location);
    assert.deepEqual(readFileSync(path.join(kept, 'big.bin')), edited);
    assert.equal(readFileSync(path.join(kept, 'public.txt'), 'utf8'), 'tampered\n');
    assert.equal(readFileSync(path.join(kept, 'link/kept'), 'utf8'), 'keep me\n');
    assert.equal(readFileSync(path.join(kept, 'bin'), 'utf8'), 'a file where a directory goes\n');
    assert.equal(lstatSync(path.join(s.dir, 'state/backups')).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(s.location).filter((n) => n.startsWith('.pacha-tmp-')), []);
  });

  it('refuses a target whose subdirectory is a symlink leading outside, and writes nothing there', async () => {
    const s = setup();
    const outside = path.join(s.dir, 'outside');
    mkdirSync(outside);
    mkdirSync(s.location, { recursive: true });
    symlinkSync(outside, path.join(s.location, 'bin'));
    await assert.rejects(rebuild(s.stageTree, s.metadata, '/', s.stateDir), (e) => assertUnsafe(e, '"bin"'));
    assert.deepEqual(readdirSync(outside), []);
    assert.deepEqual(readdirSync(s.location), ['bin'], 'a refused plan touches nothing at all');
  });

  it('refuses at write time a symlink that appeared after planning', async () => {
    const s = setup();
    const validated = validateMetadata(s.metadata, 'foo');
    const accounts = await loadTargetAccounts('/', recordedNames(validated.entries));
    const plan = await inspectAndPlan({ repository: 'foo', metadata: validated, stageTree: s.stageTree, root: '/', accounts });
    const outside = path.join(s.dir, 'outside');
    mkdirSync(outside);
    mkdirSync(s.location, { recursive: true });
    symlinkSync(outside, path.join(s.location, 'bin'));
    await assert.rejects(placeRepository(plan, { root: '/', backupDir: backupDirFor(s.stateDir) }), (e) => assertUnsafe(e, 'bin'));
    assert.deepEqual(readdirSync(outside), []);
  });

  it('a failure while placing names the repository and the entry, and stops there', async () => {
    const s = setup();
    const validated = validateMetadata(s.metadata, 'foo');
    const accounts = await loadTargetAccounts('/', recordedNames(validated.entries));
    const plan = await inspectAndPlan({ repository: 'foo', metadata: validated, stageTree: s.stageTree, root: '/', accounts });
    rmSync(path.join(s.stageTree, 'public.txt')); // the stage lost a file between planning and placing
    await assert.rejects(placeRepository(plan, { root: '/', backupDir: backupDirFor(s.stateDir), concurrency: 1 }), (e: unknown) => {
      assert.ok(e instanceof OperationError);
      assert.equal(e.code, 'EPLACE');
      assert.match(e.message, /repository "foo": could not place "public.txt"/);
      return true;
    });
    assert.equal(existsSync(path.join(s.location, 'secret.key')), false, 'entries after the failure were not placed');
    assert.deepEqual(readdirSync(s.location).filter((n) => n.startsWith('.pacha-tmp-')), [], 'no temp file left');
  });

  it('refuses a target root that is a symlink', async () => {
    const s = setup();
    const outside = path.join(s.dir, 'outside');
    mkdirSync(outside);
    mkdirSync(path.dirname(s.location), { recursive: true });
    symlinkSync(outside, s.location);
    await assert.rejects(rebuild(s.stageTree, s.metadata, '/', s.stateDir), (e) => assertUnsafe(e, 'is a symlink'));
    assert.deepEqual(readdirSync(outside), []);
  });

  it("refuses metadata with '..' before anything is created", async () => {
    const s = setup();
    const bad = { ...s.metadata, entries: [...s.metadata.entries, { path: 'bin/../../escape', type: 'file' as const, mode: 0o644, user: ROOT, group: ROOT }] };
    await assert.rejects(rebuild(s.stageTree, bad, '/', s.stateDir), (e) => assertUnsafe(e, 'bin/../../escape'));
    assert.equal(existsSync(s.location), false);
    assert.equal(existsSync(path.join(path.dirname(s.location), 'escape')), false);
  });

  it('refuses a checkout whose file is really a symlink (it would be read through)', async () => {
    const s = setup();
    rmSync(path.join(s.stageTree, 'secret.key'));
    symlinkSync('/etc/shadow', path.join(s.stageTree, 'secret.key'));
    await assert.rejects(rebuild(s.stageTree, s.metadata, '/', s.stateDir), (e) => assertUnsafe(e, 'secret.key'));
    assert.equal(existsSync(s.location), false);
  });

  it('an owner name missing here falls back to the recorded id and is reported', async () => {
    const ghost = { name: `pachaghost${process.pid}`, id: 45_678 };
    const ghostGroup = { name: `pachaghostg${process.pid}`, id: 45_999 };
    const s = setup([
      { path: '.', type: 'directory', mode: 0o755, user: ROOT, group: ROOT },
      { path: 'orphan', type: 'file', mode: 0o640, user: ghost, group: ghostGroup, content: Buffer.from('x') },
      { path: 'half', type: 'file', mode: 0o640, user: { name: account.user, id: 1 }, group: ghostGroup, content: Buffer.from('y') },
    ]);
    const { result } = await rebuild(s.stageTree, s.metadata, '/', s.stateDir);
    const orphan = lstatSync(path.join(s.location, 'orphan'));
    assert.deepEqual([orphan.uid, orphan.gid], [45_678, 45_999]);
    const half = lstatSync(path.join(s.location, 'half'));
    assert.deepEqual([half.uid, half.gid], [account.uid, 45_999]);
    assert.deepEqual(result.ownersNotFound, [
      { kind: 'user', name: ghost.name, id: ghost.id, paths: ['orphan'] },
      { kind: 'group', name: ghostGroup.name, id: ghostGroup.id, paths: ['half', 'orphan'] },
    ]);
  });

  it('--root: places under the root, owners by the image\'s own accounts, never through its absolute symlinks', async () => {
    const dir = tempDir('pacha-root-');
    const image = path.join(dir, 'image');
    mkdirSync(path.join(image, 'etc'), { recursive: true });
    // In the image, the test user has other ids than on this host.
    writeFileSync(path.join(image, 'etc/passwd'), `root:x:0:0::/root:/bin/sh\n${account.user}:x:3100:3200::/:/bin/false\n`);
    writeFileSync(path.join(image, 'etc/group'), `root:x:0:\n${account.group}:x:3300:\n`);
    const entries: StagedEntry[] = [
      { path: '.', type: 'directory', mode: 0o750, user: { name: account.user, id: 1 }, group: { name: account.group, id: 2 } },
      { path: 'conf', type: 'file', mode: 0o600, user: { name: account.user, id: 1 }, group: ROOT, content: Buffer.from('c') },
    ];
    const stageTree = path.join(dir, 'stage/tree');
    const metadata = stageRepository(stageTree, '/opt/app', entries);
    const { plan } = await rebuild(stageTree, metadata, image, path.join(dir, 'state'));
    assert.equal(plan.targetRoot, path.join(image, 'opt/app'));
    const root = lstatSync(path.join(image, 'opt/app'));
    assert.deepEqual([root.uid, root.gid, root.mode & 0o7777], [3100, 3300, 0o750]);
    assert.equal(lstatSync(path.join(image, 'opt')).mode & 0o7777, 0o755);
    assert.equal(lstatSync(path.join(image, 'opt/app/conf')).uid, 3100);

    // An image whose /srv is an absolute symlink would lead onto this host: refused.
    const hostSide = path.join(dir, 'host-srv');
    mkdirSync(hostSide);
    symlinkSync(hostSide, path.join(image, 'srv'));
    const elsewhere = stageRepository(path.join(dir, 'stage2/tree'), '/srv/app', entries);
    await assert.rejects(rebuild(path.join(dir, 'stage2/tree'), elsewhere, image, path.join(dir, 'state')), (e) => assertUnsafe(e, 'outside'));
    assert.deepEqual(readdirSync(hostSide), []);
  });

  it('a single tracked file: placed beside untracked files, which are left alone and not listed', async () => {
    const dir = tempDir('pacha-single-');
    const etc = path.join(dir, 'host/etc');
    mkdirSync(etc, { recursive: true });
    writeFileSync(path.join(etc, 'other.conf'), 'untouched\n');
    writeFileSync(path.join(etc, 'app.conf'), 'old\n');
    const stageTree = path.join(dir, 'stage/tree');
    const metadata = stageRepository(stageTree, path.join(etc, 'app.conf'), [
      { path: 'app.conf', type: 'file', mode: 0o640, user: ROOT, group: { name: account.group, id: 5 }, content: Buffer.from('new\n') },
    ], true);
    const { plan, result, backupDir } = await rebuild(stageTree, metadata, '/', path.join(dir, 'state'));
    assert.equal(plan.targetRoot, etc);
    assert.deepEqual(plan.extras, []);
    assert.equal(readFileSync(path.join(etc, 'app.conf'), 'utf8'), 'new\n');
    assert.equal(lstatSync(path.join(etc, 'app.conf')).gid, account.gid);
    assert.equal(readFileSync(path.join(etc, 'other.conf'), 'utf8'), 'untouched\n');
    assert.equal(readFileSync(path.join(backupDir, etc, 'app.conf'), 'utf8'), 'old\n');
    assert.equal(result.backedUp, 1);
  });
});

describe('placeRepository with a stage it may consume (a rebuild)', () => {
  it('moves the staged files into place, exactly (setuid bits after the owner), leaving none behind in the stage', async () => {
    const s = setup();
    const { result } = await rebuild(s.stageTree, s.metadata, '/', s.stateDir, true);
    assertPlacedExactly(s.location, s.entries);
    const files = s.entries.filter((e) => e.type === 'file');
    assert.ok(files.some((e) => (e.mode & 0o6000) !== 0), 'the fixture has a setuid or setgid file');
    for (const entry of files) assert.equal(existsSync(path.join(s.stageTree, entry.path)), false, `${entry.path} is still in the stage: copied, not moved`);
    assert.equal(result.bytes, s.entries.reduce((n, e) => n + (e.content?.length ?? 0), 0));
    assert.deepEqual(readdirSync(s.location).filter((n) => n.startsWith('.pacha-tmp-')), []);
  });

  it('copies instead when the stage is on another filesystem (EXDEV), still exactly', async () => {
    const shm = '/dev/shm';
    assert.equal(execFileSync('stat', ['-f', '-c', '%T', shm], { encoding: 'utf8' }).trim(), 'tmpfs', 'this test needs /dev/shm as a tmpfs');
    const s = setup();
    assert.notEqual(lstatSync(shm).dev, lstatSync(s.dir).dev, 'the test dir must not be on /dev/shm');
    const stageTree = mkdtempSync(path.join(shm, 'pacha-place-stage-'));
    try {
      const metadata = stageRepository(stageTree, s.location, s.entries);
      const { result } = await rebuild(stageTree, metadata, '/', s.stateDir, true);
      assertPlacedExactly(s.location, s.entries);
      assert.equal(result.written, s.entries.length);
      assert.deepEqual(readdirSync(s.location).filter((n) => n.startsWith('.pacha-tmp-')), []);
    } finally {
      rmSync(stageTree, { recursive: true, force: true });
    }
  });

  it('refuses a staged copy that became a symlink after planning, and writes nothing through it', async () => {
    const s = setup();
    const validated = validateMetadata(JSON.parse(JSON.stringify(s.metadata)), 'foo');
    const accounts = await loadTargetAccounts('/', recordedNames(validated.entries));
    const plan = await inspectAndPlan({ repository: 'foo', metadata: validated, stageTree: s.stageTree, root: '/', accounts });
    const victim = path.join(s.dir, 'victim');
    writeFileSync(victim, 'not yours\n');
    chmodSync(victim, 0o600);
    const staged = path.join(s.stageTree, 'secret.key');
    rmSync(staged);
    symlinkSync(victim, staged);
    await assert.rejects(placeRepository(plan, { root: '/', backupDir: backupDirFor(s.stateDir), consumeStage: true }), (error: unknown) => {
      assert.ok(error instanceof OperationError, String(error));
      assert.ok(error.message.includes('secret.key'), error.message);
      return true;
    });
    const stats = lstatSync(victim);
    assert.deepEqual([stats.mode & 0o7777, stats.uid, stats.gid], [0o600, process.getuid!(), process.getgid!()], 'the symlink was followed');
    assert.equal(existsSync(path.join(s.location, 'secret.key')), false);
  });
});
