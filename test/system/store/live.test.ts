// The daemon's commit of a few changed paths (store/live.ts) records exactly what a full
// capture records: after every step the branch's tree is the one a full commit of the same
// directory makes, metadata byte for byte (owners, modes, hard links, xattrs, ignore rules).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Store } from '../../../src/store/store.js';
import { pathsToRead, type WrittenCommit } from '../../../src/store/live.js';
import { shardOf } from '../../../src/store/metadata-files.js';
import { packFile } from '../../../src/store/pack-file.js';
import { changedContentBytes } from '../../../src/store/fast-push.js';
import { FAST_UPDATE_MAX_PATCH_BYTES } from '../../../src/master/fast-update.js';
import { tempDir } from '../../helpers/tmp.js';

const git = (gitDir: string, ...args: string[]) => execFileSync('git', ['--git-dir', gitDir, ...args]).toString();

/** The tree a full commit makes of `location` now, in a fresh store. */
async function fullTree(location: string, ignore: string[] = []): Promise<{ tree: string; metadata: string }> {
  const store = await Store.open(tempDir(), 'bar');
  const { tracked } = await store.track(location, { ignore });
  await store.commit(tracked);
  return { tree: git(tracked.gitDir, 'rev-parse', 'main^{tree}').trim(), metadata: metadataText(tracked.gitDir) };
}

/** Every metadata file of the branch (the header and each shard) with its name: what a failed comparison shows. */
function metadataText(gitDir: string): string {
  const files = git(gitDir, 'ls-tree', '-r', '--name-only', 'main', '.pacha').trim().split('\n');
  return files.map((file) => `== ${file}\n${git(gitDir, 'show', `main:${file}`)}`).join('');
}

/**
 * The pack of the objects a live commit wrote (its push, pack-file.ts) brings a repository
 * holding exactly the parent's history to the new commit: unpacked strictly, every object
 * the commit reaches is there (fsck), nothing else needed.
 */
async function assertPackIsThePush(gitDir: string, written: WrittenCommit | undefined, parent: string, sha: string, what: string): Promise<Buffer> {
  assert.ok(written, `${what}: the live commit kept its objects`);
  assert.equal(written.parent, parent, `${what}: on the commit before`);
  assert.equal(written.sha, sha, `${what}: the commit made`);
  const master = tempDir();
  execFileSync('git', ['init', '-q', '--bare', master]);
  execFileSync('git', ['--git-dir', gitDir, 'push', '-q', master, `${parent}:refs/heads/main`], { stdio: 'pipe' });
  const pack = await packFile(written.objects);
  assert.ok(pack);
  execFileSync('git', ['--git-dir', master, 'unpack-objects', '-q', '--strict'], { input: pack, stdio: ['pipe', 'pipe', 'pipe'] });
  execFileSync('git', ['--git-dir', master, 'update-ref', 'refs/heads/main', sha, parent]);
  execFileSync('git', ['--git-dir', master, 'fsck', '--strict', '--no-dangling', '--no-progress'], { stdio: 'pipe' });
  assert.equal(git(master, 'rev-parse', 'main^{tree}'), git(gitDir, 'rev-parse', `${sha}^{tree}`), `${what}: the same tree`);
  return pack;
}

test('pathsToRead: each path and its directory, parents first', () => {
  assert.deepEqual(pathsToRead(['a/b/c', 'x']), ['.', 'a/b', 'a/b/c', 'x']);
  assert.deepEqual(pathsToRead(['.']), ['.']);
});

test('a commit of the reported paths equals a full commit, step after step', async () => {
  const root = tempDir();
  const app = path.join(root, 'app');
  mkdirSync(path.join(app, 'sub/deep'), { recursive: true });
  writeFileSync(path.join(app, 'a.conf'), 'a=1\n');
  writeFileSync(path.join(app, 'sub/deep/b.conf'), 'b=1\n');
  writeFileSync(path.join(app, 'skip.swp'), 'x');
  linkSync(path.join(app, 'a.conf'), path.join(app, 'sub/a-link'));
  const store = await Store.open(path.join(root, 'state'), 'bar');
  store.keepSnapshots = true;
  const { tracked } = await store.track(app, { ignore: ['*.swp'] });
  assert.ok(await store.commit(tracked), 'the first commit is a full one');

  const steps: Array<{ what: string; act: () => void; changed: string[]; kinds?: string[] }> = [
    { what: 'an edit', act: () => writeFileSync(path.join(app, 'sub/deep/b.conf'), 'b=2\n'), changed: ['sub/deep/b.conf'], kinds: ['M'] },
    { what: 'a chmod', act: () => chmodSync(path.join(app, 'sub/deep/b.conf'), 0o600), changed: ['sub/deep/b.conf'], kinds: ['P'] },
    { what: 'a chown', act: () => chownSync(path.join(app, 'a.conf'), 1, 1), changed: ['a.conf'] },
    { what: 'an xattr', act: () => execFileSync('setfattr', ['-n', 'user.pacha', '-v', 'yes', path.join(app, 'sub/deep/b.conf')]), changed: ['sub/deep/b.conf'] },
    { what: 'an ACL on a directory', act: () => execFileSync('setfacl', ['-m', 'u:1:rx', path.join(app, 'sub')]), changed: ['sub'] },
    { what: "the root's own mode", act: () => chmodSync(app, 0o750), changed: ['app'] },
    { what: 'a new file', act: () => writeFileSync(path.join(app, 'new.conf'), 'n\n'), changed: ['new.conf'], kinds: ['A'] },
    { what: 'an ignored file', act: () => writeFileSync(path.join(app, 'other.swp'), 'y'), changed: ['other.swp'] },
    { what: 'a rename', act: () => renameSync(path.join(app, 'new.conf'), path.join(app, 'sub/moved.conf')), changed: ['new.conf', 'sub/moved.conf'], kinds: ['R'] },
    {
      what: 'a tree moved in',
      act: () => {
        const outside = path.join(root, 'outside');
        mkdirSync(path.join(outside, 'x/y'), { recursive: true });
        writeFileSync(path.join(outside, 'x/y/z.conf'), 'z\n');
        mkdirSync(path.join(outside, 'x/empty'));
        renameSync(outside, path.join(app, 'tree'));
      },
      changed: ['tree'],
    },
    { what: 'a hard link made', act: () => linkSync(path.join(app, 'tree/x/y/z.conf'), path.join(app, '0-first')), changed: ['0-first'] },
    { what: 'the leader of a link group removed', act: () => unlinkSync(path.join(app, '0-first')), changed: ['0-first'] },
    { what: 'a linked file edited through one name', act: () => writeFileSync(path.join(app, 'a.conf'), 'a=2\n'), changed: ['a.conf'] },
    { what: 'a symlink retargeted', act: () => symlinkSync('/etc/hosts', path.join(app, 'link')), changed: ['link'] },
    {
      what: 'a file replaced by a directory',
      act: () => {
        unlinkSync(path.join(app, 'sub/moved.conf'));
        mkdirSync(path.join(app, 'sub/moved.conf'));
        writeFileSync(path.join(app, 'sub/moved.conf/inner'), 'i\n');
      },
      changed: ['sub/moved.conf', 'sub/moved.conf/inner'],
    },
    { what: 'a directory removed', act: () => rmSync(path.join(app, 'tree'), { recursive: true }), changed: ['tree'] },
    { what: 'a FIFO', act: () => execFileSync('mkfifo', [path.join(app, 'pipe')]), changed: ['pipe'] },
  ];
  let head = git(tracked.gitDir, 'rev-parse', 'main').trim();
  for (const step of steps) {
    step.act();
    const result = await store.commit(tracked, { by: { origin: 'daemon' }, changed: step.changed });
    assert.equal(store.lastCommitRead, 'changed', `${step.what}: only the reported paths were read (${store.lastFullReason})`);
    const expected = await fullTree(app, ['*.swp']);
    assert.equal(metadataText(tracked.gitDir), expected.metadata, `${step.what}: the metadata a full capture records`);
    assert.equal(git(tracked.gitDir, 'rev-parse', 'main^{tree}').trim(), expected.tree, `${step.what}: the tree a full commit makes`);
    if (step.what === 'an ignored file') assert.equal(result, null, 'an ignored file changes nothing');
    else assert.ok(result, `${step.what}: committed`);
    if (step.kinds) assert.deepEqual(result!.changes.map((c) => c.kind), step.kinds, `${step.what}: ${JSON.stringify(result!.changes)}`);
    const now = git(tracked.gitDir, 'rev-parse', 'main').trim();
    if (result) {
      assert.equal(git(tracked.gitDir, 'rev-parse', 'main~1').trim(), head, `${step.what}: one commit on the last`);
      await assertPackIsThePush(tracked.gitDir, store.lastLiveCommit(tracked), head, now, step.what);
    }
    head = now;
  }
  execFileSync('git', ['--git-dir', tracked.gitDir, 'fsck', '--strict', '--no-progress'], { stdio: 'pipe' });
  assert.match(git(tracked.gitDir, 'log', '-1', '--format=%an <%ae>%n%B', 'main'), /^pacha <pacha@bar>\n.*Pacha-Origin: daemon/s);
});

test('a path reported in a directory since replaced by a file is gone, not a failed read (ENOTDIR)', async () => {
  const root = tempDir();
  const app = path.join(root, 'app');
  mkdirSync(path.join(app, 'a'), { recursive: true });
  writeFileSync(path.join(app, 'a/x'), 'x\n');
  const store = await Store.open(path.join(root, 'state'), 'bar');
  store.keepSnapshots = true;
  const { tracked } = await store.track(app);
  await store.commit(tracked);
  // An edit in a/ (reported by a's watch), then a/ replaced by a file, within one debounce window.
  writeFileSync(path.join(app, 'a/x'), 'y\n');
  rmSync(path.join(app, 'a'), { recursive: true });
  writeFileSync(path.join(app, 'a'), 'now a file\n');
  const result = await store.commit(tracked, { changed: ['a/x', 'a'] });
  assert.equal(store.lastCommitRead, 'changed');
  assert.deepEqual(result?.changes.map((c) => `${c.kind} ${c.path}`).sort(), ['A a', 'D a/x']);
  const expected = await fullTree(app);
  assert.equal(metadataText(tracked.gitDir), expected.metadata);
  assert.equal(git(tracked.gitDir, 'rev-parse', 'main^{tree}').trim(), expected.tree);
});

test('a file hard-linked to ignored names: only the recorded names form its group, in both commits', async () => {
  const root = tempDir();
  const app = path.join(root, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'b.conf'), 'b\n');
  execFileSync('setfattr', ['-n', 'user.pacha', '-v', 'yes', path.join(app, 'b.conf')]);
  // One ignored name sorts before the file (it led the group: a hardlink to an entry not
  // recorded, the xattr left on it), one after (looked up among the entries: a TypeError).
  linkSync(path.join(app, 'b.conf'), path.join(app, 'a.swp'));
  linkSync(path.join(app, 'b.conf'), path.join(app, 'c.swp'));
  const store = await Store.open(path.join(root, 'state'), 'bar');
  store.keepSnapshots = true;
  const { tracked } = await store.track(app, { ignore: ['*.swp'] });
  await store.commit(tracked);
  const entry = (rel: string) => git(tracked.gitDir, 'show', 'main:.pacha/metadata/0.json').split('\n').find((line) => line.includes(`"path":"${rel}"`));
  assert.doesNotMatch(entry('b.conf')!, /hardlink/);
  assert.match(entry('b.conf')!, /user\.pacha/);
  linkSync(path.join(app, 'b.conf'), path.join(app, 'd.conf'));
  assert.ok(await store.commit(tracked, { changed: ['d.conf'] }));
  assert.equal(store.lastCommitRead, 'changed');
  assert.match(entry('d.conf')!, /"hardlink":"b.conf"/);
  const expected = await fullTree(app, ['*.swp']);
  assert.equal(metadataText(tracked.gitDir), expected.metadata);
  assert.equal(git(tracked.gitDir, 'rev-parse', 'main^{tree}').trim(), expected.tree);
});

test('a directory removed and made again with the old one\'s inode number: what was below it leaves', async () => {
  const root = tempDir();
  const app = path.join(root, 'app');
  const store = await Store.open(path.join(root, 'state'), 'bar');
  store.keepSnapshots = true;
  mkdirSync(app);
  const { tracked } = await store.track(app);
  await store.commit(tracked);
  // ext4 gives a freed inode number to the next entry made, most times: try until it does
  // (on a filesystem that never does, the commit is checked all the same).
  let reused = false;
  for (let attempt = 0; attempt < 20 && !reused; attempt++) {
    mkdirSync(path.join(app, 'd'));
    writeFileSync(path.join(app, 'd/old.conf'), 'old\n');
    assert.ok(await store.commit(tracked, { changed: ['d'] }));
    const before = lstatSync(path.join(app, 'd')).ino;
    // Moved aside and removed there: the watcher reports d leaving and d made, nothing below it.
    renameSync(path.join(app, 'd'), path.join(root, 'aside'));
    rmSync(path.join(root, 'aside'), { recursive: true });
    mkdirSync(path.join(app, 'd'));
    reused = lstatSync(path.join(app, 'd')).ino === before;
    await store.commit(tracked, { changed: ['d'] });
    assert.equal(store.lastCommitRead, 'changed');
    const expected = await fullTree(app);
    assert.equal(metadataText(tracked.gitDir), expected.metadata, `attempt ${attempt}${reused ? ' (the same inode number)' : ''}`);
    assert.equal(git(tracked.gitDir, 'rev-parse', 'main^{tree}').trim(), expected.tree);
    rmSync(path.join(app, 'd'), { recursive: true });
    await store.commit(tracked, { changed: ['d'] });
  }
});

test('a reconcile that fails (an entry refused) drops the snapshot: the next commit of a few reported paths reads everything', async () => {
  const root = tempDir();
  const app = path.join(root, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'a'), '1');
  const store = await Store.open(path.join(root, 'state'), 'bar');
  store.keepSnapshots = true;
  const { tracked } = await store.track(app);
  await store.commit(tracked);
  // b's event went with the periodic reconcile (daemon/path-worker.ts), which fails on .git.
  writeFileSync(path.join(app, 'b'), '2');
  mkdirSync(path.join(app, '.git'));
  await assert.rejects(store.commit(tracked, { by: { origin: 'daemon' } }), { code: 'EUNTRACKABLE' });
  rmSync(path.join(app, '.git'), { recursive: true });
  const result = await store.commit(tracked, { by: { origin: 'daemon' }, changed: ['.git'] });
  assert.equal(store.lastCommitRead, 'full');
  assert.deepEqual(result?.changes, [{ kind: 'A', path: 'b' }]);
  assert.equal((await fullTree(app)).tree, git(tracked.gitDir, 'rev-parse', 'main^{tree}').trim());
});

test('an edit on a tree of 3,000 files writes one metadata shard, not the whole metadata: its push is a few KB', async () => {
  const root = tempDir();
  const app = path.join(root, 'app');
  for (let d = 0; d < 30; d++) {
    mkdirSync(path.join(app, `d${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(path.join(app, `d${d}`, `file-with-a-longer-name-${f}.conf`), `${d}.${f}\n`);
  }
  const store = await Store.open(path.join(root, 'state'), 'bar');
  store.keepSnapshots = true;
  const { tracked } = await store.track(app);
  await store.commit(tracked);
  const whole = metadataText(tracked.gitDir).length;
  const shards = git(tracked.gitDir, 'ls-tree', '--name-only', 'main:.pacha/metadata').trim().split('\n');
  assert.equal(shards.length, 16, 'about 3,000 entries: 16 shards');
  for (const step of ['first', 'second']) {
    const head = git(tracked.gitDir, 'rev-parse', 'main').trim();
    chmodSync(path.join(app, 'd7', 'file-with-a-longer-name-3.conf'), step === 'first' ? 0o600 : 0o640);
    writeFileSync(path.join(app, 'd7', 'file-with-a-longer-name-3.conf'), `${step}\n`);
    assert.ok(await store.commit(tracked, { changed: ['d7/file-with-a-longer-name-3.conf'] }));
    assert.equal(store.lastCommitRead, 'changed');
    const written = store.lastLiveCommit(tracked);
    const blobs = written!.objects.filter((o) => o.type === 'blob').length;
    assert.equal(blobs, 2, `${step} edit: the file and its entry's shard, nothing else`);
    const pack = await assertPackIsThePush(tracked.gitDir, written, head, git(tracked.gitDir, 'rev-parse', 'main').trim(), `${step} edit`);
    assert.ok(pack.length < whole / 10, `${step} edit: a pack of ${pack.length} bytes for ${whole} bytes of metadata`);
    assert.equal(metadataText(tracked.gitDir), (await fullTree(app)).metadata, `${step} edit: the metadata a full commit writes`);
  }
});

test('a commit another process made is seen: the next commit is a full one, nothing is lost', async () => {
  const root = tempDir();
  const app = path.join(root, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'a'), '1');
  const store = await Store.open(path.join(root, 'state'), 'bar');
  store.keepSnapshots = true;
  const { tracked } = await store.track(app);
  await store.commit(tracked);
  const other = await Store.open(path.join(root, 'state'), 'bar');
  writeFileSync(path.join(app, 'b'), '2');
  assert.ok(await other.commit(tracked), 'the other process commits b');
  writeFileSync(path.join(app, 'c'), '3');
  // Told only about c: the kept snapshot is stale (the branch moved), so everything is read.
  const result = await store.commit(tracked, { changed: ['c'] });
  assert.equal(store.lastCommitRead, 'full');
  assert.deepEqual(result?.changes, [{ kind: 'A', path: 'c' }]);
  assert.equal((await fullTree(app)).tree, git(tracked.gitDir, 'rev-parse', 'main^{tree}').trim());
});

test('a change the watcher did not report is committed by the next full commit (the periodic reconcile)', async () => {
  const root = tempDir();
  const app = path.join(root, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'a'), '1');
  writeFileSync(path.join(app, 'b'), '1');
  const store = await Store.open(path.join(root, 'state'), 'bar');
  store.keepSnapshots = true;
  const { tracked } = await store.track(app);
  await store.commit(tracked);
  // The watcher was blind to this one (an overflowed queue, a directory not yet watched).
  writeFileSync(path.join(app, 'b'), '2');
  assert.equal(await store.commit(tracked, { changed: ['a'] }), null, 'told only about a, which did not change');
  assert.equal(store.lastCommitRead, 'changed');
  assert.equal(git(tracked.gitDir, 'show', 'main:b'), '1');
  const reconcile = await store.commit(tracked, { by: { origin: 'daemon' } });
  assert.deepEqual(reconcile?.changes, [{ kind: 'M', path: 'b' }]);
  assert.equal(git(tracked.gitDir, 'show', 'main:b'), '2');
  // And the kept snapshot follows: the next reported edit commits on top of it.
  writeFileSync(path.join(app, 'a'), '3');
  const next = await store.commit(tracked, { changed: ['a'] });
  assert.equal(store.lastCommitRead, 'changed');
  assert.deepEqual(next?.changes, [{ kind: 'M', path: 'a' }]);
  assert.equal((await fullTree(app)).tree, git(tracked.gitDir, 'rev-parse', 'main^{tree}').trim());
  // A removal and a new directory the watcher missed: the reconcile (a walk against the kept stamps) finds both.
  unlinkSync(path.join(app, 'b'));
  mkdirSync(path.join(app, 'new'));
  writeFileSync(path.join(app, 'new', 'c'), 'c');
  const missed = await store.commit(tracked, { by: { origin: 'daemon' } });
  assert.equal(store.lastCommitRead, 'changed', 'committed from the kept snapshot, not by a full commit');
  for (const change of [{ kind: 'D', path: 'b' }, { kind: 'A', path: 'new/c' }]) assert.ok(missed?.changes.some((c) => c.kind === change.kind && c.path === change.path), JSON.stringify(missed?.changes));
  assert.equal((await fullTree(app)).tree, git(tracked.gitDir, 'rev-parse', 'main^{tree}').trim());
});

test('a live commit keeps its objects for the push only while they could go in one round trip', async () => {
  const root = tempDir();
  const app = path.join(root, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'a.conf'), 'a=1\n');
  const store = await Store.open(path.join(root, 'state'), 'bar');
  store.keepSnapshots = true;
  const { tracked } = await store.track(app);
  await store.commit(tracked);
  const big = (seed: number): Buffer => Buffer.from(Array.from({ length: 700_000 }, (_, i) => (i * seed + (i >> 7)) & 0xff));
  writeFileSync(path.join(app, 'one.bin'), big(7));
  writeFileSync(path.join(app, 'two.bin'), big(13));
  assert.ok(await store.commit(tracked, { changed: ['one.bin', 'two.bin'] }));
  assert.equal(store.lastCommitRead, 'changed');
  assert.equal(store.lastLiveCommit(tracked), undefined, '1.4 MB of files: not kept (git pack-objects packs it)');
  const before = git(tracked.gitDir, 'rev-parse', 'main').trim();
  writeFileSync(path.join(app, 'a.conf'), 'a=2\n');
  assert.ok(await store.commit(tracked, { changed: ['a.conf'] }));
  await assertPackIsThePush(tracked.gitDir, store.lastLiveCommit(tracked), before, git(tracked.gitDir, 'rev-parse', 'main').trim(), 'a small edit after');
});

test("a live commit that removes or renames a big file keeps nothing: its pack is tiny, but the master's patch would carry the whole file", async () => {
  const root = tempDir();
  const app = path.join(root, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'a.conf'), 'a=1\n');
  const size = FAST_UPDATE_MAX_PATCH_BYTES / 2 + 1;
  writeFileSync(path.join(app, 'dump.bin'), Buffer.alloc(size, 7));
  const store = await Store.open(path.join(root, 'state'), 'bar');
  store.keepSnapshots = true;
  const { tracked } = await store.track(app);
  await store.commit(tracked);
  renameSync(path.join(app, 'dump.bin'), path.join(app, 'dump.old'));
  assert.ok(await store.commit(tracked, { changed: ['dump.bin', 'dump.old'] })); // a full commit: the new name is over SMALL_FILE
  assert.equal(store.lastLiveCommit(tracked), undefined, 'a rename (--no-renames: the file out and in again): not kept');
  const renamed = git(tracked.gitDir, 'rev-parse', 'main').trim();
  unlinkSync(path.join(app, 'dump.old'));
  assert.ok(await store.commit(tracked, { changed: ['dump.old'] }));
  assert.equal(store.lastCommitRead, 'changed', 'a deletion reads no content: committed live');
  assert.equal(store.lastLiveCommit(tracked), undefined, 'a deletion: not kept');
  assert.equal(await changedContentBytes(tracked.gitDir, renamed, git(tracked.gitDir, 'rev-parse', 'main').trim()).then((n) => n! >= size), true, 'weighed by git: at least the file');
  writeFileSync(path.join(app, 'a.conf'), 'a=2\n');
  const before = git(tracked.gitDir, 'rev-parse', 'main').trim();
  assert.ok(await store.commit(tracked, { changed: ['a.conf'] }));
  await assertPackIsThePush(tracked.gitDir, store.lastLiveCommit(tracked), before, git(tracked.gitDir, 'rev-parse', 'main').trim(), 'a small edit after');
});

test('a tree of several metadata shards: each live commit writes the metadata files a full commit writes, byte for byte', async () => {
  // 800 files in 8 directories are spread over 16 shards (metadata-files.ts), so a commit
  // re-encodes some shards, keeps the others as they were, and may empty one.
  const root = tempDir();
  const app = path.join(root, 'app');
  for (let d = 0; d < 8; d++) {
    mkdirSync(path.join(app, `d${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(path.join(app, `d${d}`, `f${String(f).padStart(3, '0')}.conf`), `${d}.${f}\n`);
  }
  const store = await Store.open(path.join(root, 'state'), 'bar');
  store.keepSnapshots = true;
  const { tracked } = await store.track(app);
  await store.commit(tracked);
  const steps: Array<{ what: string; act: () => void; changed: string[] }> = [
    { what: 'an edit in the third block', act: () => writeFileSync(path.join(app, 'd5/f050.conf'), 'edited\n'), changed: ['d5/f050.conf'] },
    { what: 'a chmod in the first block', act: () => chmodSync(path.join(app, 'd0/f001.conf'), 0o600), changed: ['d0/f001.conf'] },
    { what: 'a new file sorting first', act: () => writeFileSync(path.join(app, '0-new.conf'), 'n\n'), changed: ['0-new.conf'] },
    { what: 'a directory spanning a fence removed', act: () => rmSync(path.join(app, 'd2'), { recursive: true }), changed: ['d2'] },
    { what: 'a new file in the last block', act: () => writeFileSync(path.join(app, 'd7/zz.conf'), 'z\n'), changed: ['d7/zz.conf'] },
    {
      what: 'every entry of one shard removed (its file leaves the tree)',
      act: () => {
        for (const rel of emptied) rmSync(path.join(app, rel));
      },
      changed: [] as string[],
    },
  ];
  // The shard of d0/f000.conf, if no directory is in it: all its files go in the last step.
  const all = ['0-new.conf', 'd7/zz.conf', ...[0, 1, 3, 4, 5, 6, 7].flatMap((d) => Array.from({ length: 100 }, (_, f) => `d${d}/f${String(f).padStart(3, '0')}.conf`))];
  const dirs = ['.', ...Array.from({ length: 8 }, (_, d) => `d${d}`)];
  const shard = [...Array(16).keys()].find((s) => !dirs.some((d) => shardOf(d, 16) === s))!;
  const emptied = all.filter((rel) => shardOf(rel, 16) === shard);
  steps.at(-1)!.changed.push(...emptied);
  for (const step of steps) {
    step.act();
    assert.ok(await store.commit(tracked, { changed: step.changed }), `${step.what}: committed`);
    assert.equal(store.lastCommitRead, 'changed', `${step.what}: a live commit (${store.lastFullReason})`);
    const expected = await fullTree(app);
    assert.equal(metadataText(tracked.gitDir), expected.metadata, `${step.what}: the metadata a full commit writes`);
    assert.equal(git(tracked.gitDir, 'rev-parse', 'main^{tree}').trim(), expected.tree, `${step.what}: the tree a full commit makes`);
  }
  const left = git(tracked.gitDir, 'ls-tree', '--name-only', 'main:.pacha/metadata').trim().split('\n');
  assert.equal(left.length, 15, `shard ${shard.toString(16)} emptied and gone: ${left.join(' ')}`);
});

test('changedContentBytes weighs what a patch carries: content out and in, nothing for a mode changed alone', async () => {
  const work = tempDir();
  const run = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: work, encoding: 'utf8' }).trim();
  run('init', '-q', '-b', 'main');
  const commit = (message: string): string => (run('add', '-A'), run('commit', '-q', '-m', message), run('rev-parse', 'HEAD'));
  writeFileSync(path.join(work, 'big'), Buffer.alloc(3000, 1));
  const first = commit('big');
  chmodSync(path.join(work, 'big'), 0o755);
  const executable = commit('mode');
  writeFileSync(path.join(work, 'big'), Buffer.alloc(1000, 2));
  const smaller = commit('content');
  rmSync(path.join(work, 'big'));
  const gone = commit('gone');
  const gitDir = path.join(work, '.git');
  assert.equal(await changedContentBytes(gitDir, first, executable), 0);
  assert.equal(await changedContentBytes(gitDir, executable, smaller), 4000);
  assert.equal(await changedContentBytes(gitDir, smaller, gone), 1000);
  assert.equal(await changedContentBytes(gitDir, first, '0'.repeat(40)), undefined, 'git cannot say: undefined (the caller pushes with git)');
});
