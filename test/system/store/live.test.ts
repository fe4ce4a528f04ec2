// The daemon's commit of a few changed paths (store/live.ts) records exactly what a full
// capture records: after every step the branch's tree is the one a full commit of the same
// directory makes, metadata byte for byte (owners, modes, hard links, xattrs, ignore rules).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Store } from '../../../src/store/store.js';
import { gitAt } from '../../../src/store/git.js';
import { pathsToRead, seedLive, seedMetadataBase, type WrittenCommit } from '../../../src/store/live.js';
import type { Metadata } from '../../../src/store/metadata.js';
import { packFile } from '../../../src/store/pack-file.js';
import { tempDir } from '../../helpers/tmp.js';

const git = (gitDir: string, ...args: string[]) => execFileSync('git', ['--git-dir', gitDir, ...args]).toString();

/** The tree a full commit makes of `location` now, in a fresh store. */
async function fullTree(location: string, ignore: string[] = []): Promise<{ tree: string; metadata: string }> {
  const store = await Store.open(tempDir(), 'bar');
  const { tracked } = await store.track(location, { ignore });
  await store.commit(tracked);
  return { tree: git(tracked.gitDir, 'rev-parse', 'main^{tree}').trim(), metadata: git(tracked.gitDir, 'show', 'main:.pacha/metadata.json') };
}

/**
 * The pack of the objects a live commit wrote (its push, pack-file.ts) brings a repository
 * holding exactly the parent's history to the new commit: unpacked strictly, every object
 * the commit reaches is there (fsck), nothing else needed.
 */
async function assertPackIsThePush(gitDir: string, written: WrittenCommit | undefined, parent: string, sha: string, what: string): Promise<boolean> {
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
  // Whether an object went as a delta against one the parent holds (the metadata, after a first live commit).
  return written.objects.some((o) => o.base !== undefined);
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
  const deltas: boolean[] = [];
  for (const step of steps) {
    step.act();
    const result = await store.commit(tracked, { by: { origin: 'daemon' }, changed: step.changed });
    assert.equal(store.lastCommitRead, 'changed', `${step.what}: only the reported paths were read (${store.lastFullReason})`);
    const expected = await fullTree(app, ['*.swp']);
    const metadata = git(tracked.gitDir, 'show', 'main:.pacha/metadata.json');
    assert.equal(metadata, expected.metadata, `${step.what}: the metadata a full capture records`);
    assert.equal(git(tracked.gitDir, 'rev-parse', 'main^{tree}').trim(), expected.tree, `${step.what}: the tree a full commit makes`);
    if (step.what === 'an ignored file') assert.equal(result, null, 'an ignored file changes nothing');
    else assert.ok(result, `${step.what}: committed`);
    if (step.kinds) assert.deepEqual(result!.changes.map((c) => c.kind), step.kinds, `${step.what}: ${JSON.stringify(result!.changes)}`);
    const now = git(tracked.gitDir, 'rev-parse', 'main').trim();
    if (result) {
      assert.equal(git(tracked.gitDir, 'rev-parse', 'main~1').trim(), head, `${step.what}: one commit on the last`);
      deltas.push(await assertPackIsThePush(tracked.gitDir, store.lastLiveCommit(tracked), head, now, step.what));
    }
    head = now;
  }
  // Every live commit offers a base for its metadata: the first the full commit's (checked
  // against its blob: seedMetadataBase), each later one its parent's.
  assert.deepEqual(deltas, deltas.map(() => true));
  execFileSync('git', ['--git-dir', tracked.gitDir, 'fsck', '--strict', '--no-progress'], { stdio: 'pipe' });
  assert.match(git(tracked.gitDir, 'log', '-1', '--format=%an <%ae>%n%B', 'main'), /^pacha <pacha@bar>\n.*Pacha-Origin: daemon/s);
});

test("after a full commit, the snapshot's metadata is the next push's delta base only when its hash is the blob the commit wrote", async () => {
  const root = tempDir();
  const app = path.join(root, 'app');
  mkdirSync(path.join(app, 'sub'), { recursive: true });
  for (let i = 0; i < 40; i++) writeFileSync(path.join(app, 'sub', `f${i}.conf`), `${i}\n`);
  const store = await Store.open(path.join(root, 'state'), 'bar');
  const { tracked } = await store.track(app);
  await store.commit(tracked);
  const { gitDir } = tracked;
  const text = git(gitDir, 'show', 'main:.pacha/metadata.json');
  const blob = git(gitDir, 'rev-parse', 'main:.pacha/metadata.json').trim();
  const seed = (metadataBlob: string) =>
    seedLive({
      git: gitAt({ gitDir, workTree: app }),
      gitDir,
      metadata: JSON.parse(text) as Metadata,
      metadataBlob,
      stamps: new Map(),
      head: git(gitDir, 'rev-parse', 'main').trim(),
      tree: git(gitDir, 'rev-parse', 'main^{tree}').trim(),
      ignoreKey: '',
    });

  const right = await seed(blob);
  assert.equal(right.metadata === undefined, true, 'nothing is hashed when the snapshot is made');
  seedMetadataBase(right);
  const base = right.metadata as { id: string; pieces: readonly Buffer[] } | undefined;
  assert.equal(base?.id, blob);
  assert.equal(Buffer.concat(base.pieces).toString(), text, "the base's bytes are the blob's");

  // A blob id the pieces do not hash to (the text differs): no base, so no delta against the wrong bytes.
  const other = git(gitDir, 'rev-parse', 'main:sub/f1.conf').trim();
  const wrong = await seed(other);
  seedMetadataBase(wrong);
  assert.equal(wrong.metadata, undefined);
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

test('a tree of several metadata blocks: each live commit writes the metadata text a full commit writes, byte for byte', async () => {
  // 256 entries a block (snapshot-entries.ts): 800 files in 8 directories lay 4 blocks, so
  // a commit re-encodes some blocks and copies the others from the snapshot as they were.
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
  ];
  for (const step of steps) {
    step.act();
    assert.ok(await store.commit(tracked, { changed: step.changed }), `${step.what}: committed`);
    assert.equal(store.lastCommitRead, 'changed', `${step.what}: a live commit (${store.lastFullReason})`);
    const expected = await fullTree(app);
    assert.equal(git(tracked.gitDir, 'show', 'main:.pacha/metadata.json'), expected.metadata, `${step.what}: the metadata a full commit writes`);
    assert.equal(git(tracked.gitDir, 'rev-parse', 'main^{tree}').trim(), expected.tree, `${step.what}: the tree a full commit makes`);
  }
});
