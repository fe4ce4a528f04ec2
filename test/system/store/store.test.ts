import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Store } from '../../../src/store/store.js';
import type { Metadata } from '../../../src/store/metadata.js';
import { metadataOfCommit } from '../../helpers/metadata.js';
import { tempDir } from '../../helpers/tmp.js';

function showMetadata(gitDir: string, rev = 'main'): Metadata {
  return metadataOfCommit(gitDir, rev);
}

function lsTree(gitDir: string): string[] {
  return execFileSync('git', ['--git-dir', gitDir, 'ls-tree', '-r', '--name-only', 'main']).toString().trim().split('\n');
}

test('a tracked directory is committed with content and metadata, and only changes make commits', async () => {
  const root = tempDir();
  const foo = path.join(root, 'opt/foo');
  mkdirSync(path.join(foo, 'sub/deep'), { recursive: true });
  writeFileSync(path.join(foo, 'a.conf'), 'a=1\n');
  writeFileSync(path.join(foo, 'sub/deep/b.conf'), 'b=1\n');
  writeFileSync(path.join(foo, '.gitignore'), '*.conf\n');
  mkdirSync(path.join(foo, 'empty'));
  symlinkSync('/nonexistent/target', path.join(foo, 'dangling'));
  const store = await Store.open(path.join(root, 'state'), 'bar');
  const { tracked, created } = await store.track(foo);
  assert.equal(created, true);
  assert.equal(tracked.name, 'foo');
  assert.equal(existsSync(path.join(foo, '.git')), false, 'nothing is written inside the tracked path');

  const first = await store.commit(tracked);
  assert.ok(first);
  assert.match(first.message, /^track /);
  assert.deepEqual(lsTree(tracked.gitDir).sort(), ['.gitignore', '.pacha/metadata.json', '.pacha/metadata/0.json', 'a.conf', 'dangling', 'sub/deep/b.conf']);
  const meta = showMetadata(tracked.gitDir);
  assert.equal(meta.location, foo);
  assert.deepEqual(meta.entries.map((e) => e.path), ['.', '.gitignore', 'a.conf', 'dangling', 'empty', 'sub', 'sub/deep', 'sub/deep/b.conf']);
  assert.equal(meta.entries.find((e) => e.path === 'dangling')?.target, '/nonexistent/target');

  assert.equal(await store.commit(tracked), null, 'no change, no commit');

  writeFileSync(path.join(foo, 'sub/deep/b.conf'), 'b=2\n');
  const edit = await store.commit(tracked);
  assert.deepEqual(edit?.changes, [{ kind: 'M', path: 'sub/deep/b.conf' }]);

  chmodSync(path.join(foo, 'a.conf'), 0o600);
  const mode = await store.commit(tracked);
  assert.deepEqual(mode?.changes, [{ kind: 'P', path: 'a.conf', detail: 'mode 0644→0600' }]);

  renameSync(path.join(foo, 'a.conf'), path.join(foo, 'renamed.conf'));
  const moved = await store.commit(tracked);
  assert.deepEqual(moved?.changes, [{ kind: 'R', path: 'renamed.conf', detail: 'a.conf' }]);

  unlinkSync(path.join(foo, 'dangling'));
  symlinkSync('/elsewhere', path.join(foo, 'dangling'));
  const retarget = await store.commit(tracked);
  assert.equal(retarget?.changes[0]?.path, 'dangling');

  mkdirSync(path.join(foo, 'newdir'));
  const dir = await store.commit(tracked);
  assert.deepEqual(dir?.changes, [{ kind: 'A', path: 'newdir/' }]);
  assert.equal(await store.unpushed(tracked), 6);
});

test('single-file tracking ignores the files beside it', async () => {
  const root = tempDir();
  mkdirSync(path.join(root, 'etc'));
  writeFileSync(path.join(root, 'etc/app.conf'), 'x\n');
  writeFileSync(path.join(root, 'etc/other.conf'), 'y\n');
  const store = await Store.open(path.join(root, 'state'), 'bar');
  const { tracked } = await store.track(path.join(root, 'etc/app.conf'), { single: true });
  await store.commit(tracked);
  assert.deepEqual(lsTree(tracked.gitDir).sort(), ['.pacha/metadata.json', '.pacha/metadata/0.json', 'app.conf']);
  writeFileSync(path.join(root, 'etc/other.conf'), 'changed\n');
  assert.equal(await store.commit(tracked), null);
  assert.deepEqual(showMetadata(tracked.gitDir).entries.map((e) => e.path), ['app.conf']);
});

test('a missing path records nothing; watching twice is a no-op; same basenames get distinct names', async () => {
  const root = tempDir();
  const store = await Store.open(path.join(root, 'state'), 'bar');
  await assert.rejects(store.track(path.join(root, 'nope')), /does not exist/);
  assert.deepEqual(await store.list(), []);
  mkdirSync(path.join(root, 'opt/foo'), { recursive: true });
  mkdirSync(path.join(root, 'etc/foo'), { recursive: true });
  const a = await store.track(path.join(root, 'opt/foo'));
  const again = await store.track(path.join(root, 'opt/foo'));
  assert.equal(again.created, false);
  const b = await store.track(path.join(root, 'etc/foo'));
  assert.notEqual(a.tracked.name, b.tracked.name);
  assert.equal((await store.list()).length, 2);
  assert.equal(readFileSync(path.join(root, 'state/tracked.json'), 'utf8').includes(b.tracked.name), true);
});

test('a repository an older pacha wrote (version 2 metadata, one file) moves to shards at the next commit, nothing else reported', async () => {
  const root = tempDir();
  const foo = path.join(root, 'etc/foo');
  mkdirSync(foo, { recursive: true });
  for (let i = 0; i < 300; i++) writeFileSync(path.join(foo, `f${i}.conf`), `${i}\n`);
  const store = await Store.open(path.join(root, 'state'), 'bar');
  const { tracked } = await store.track(foo);
  await store.commit(tracked);
  const entries = showMetadata(tracked.gitDir).entries;
  // What the older pacha left: its one metadata file in the tree and the index, no shards.
  const git = (args: string[], input?: string) => execFileSync('git', ['--git-dir', tracked.gitDir, ...args], { input, env: { ...process.env, GIT_INDEX_FILE: path.join(tracked.gitDir, 'index') } }).toString().trim();
  const v2 = `{"version":2,"location":${JSON.stringify(foo)},"host":"bar","single":false,\n  "entries": [\n${entries.map((e) => `    ${JSON.stringify(e)}`).join(',\n')}\n  ]\n}\n`;
  const blob = git(['hash-object', '-w', '--stdin'], v2);
  const shards = git(['ls-files', '.pacha/metadata']).split('\n');
  git(['update-index', '-z', '--index-info'], [...shards.map((p) => `0 ${'0'.repeat(40)}\t${p}`), `100644 ${blob}\t.pacha/metadata.json`].map((l) => `${l}\0`).join(''));
  const tree = git(['write-tree']);
  const old = git(['-c', 'user.name=pacha', '-c', 'user.email=p@p', 'commit-tree', tree, '-p', 'main', '-m', 'written by pacha 0.3']);
  git(['update-ref', 'refs/heads/main', old]);
  assert.equal(showMetadata(tracked.gitDir).version, 2);

  const upgraded = await store.commit(tracked);
  assert.ok(upgraded, 'the format change is a commit');
  assert.deepEqual(upgraded.changes, [{ kind: 'P', path: '.', detail: 'metadata' }], 'no file reported changed');
  const now = showMetadata(tracked.gitDir);
  assert.equal(now.version, 3);
  assert.equal(now.shards, 16);
  assert.deepEqual(now.entries, entries);
  assert.equal(lsTree(tracked.gitDir).filter((p) => p.startsWith('.pacha/')).length, 17, 'the header and 16 shards');
  assert.equal(await store.commit(tracked), null, 'then nothing to commit');
});

test('a file named .pacha cannot be tracked alone: refused when asked, and a commit of one tracked before records nothing', async () => {
  const root = tempDir();
  mkdirSync(path.join(root, 'home'));
  const file = path.join(root, 'home/.pacha');
  writeFileSync(file, 'secret = 1\n');
  const store = await Store.open(path.join(root, 'state'), 'bar');
  await assert.rejects(store.track(file, { single: true }), (error: Error) => {
    assert.match(error.message, /refusing to track .*\/home\/\.pacha: .*cannot be tracked alone; nothing was recorded/);
    return true;
  });
  assert.deepEqual(await store.list(), []);
  // A registry an older pacha wrote: its next commit refuses, naming the file, instead of committing the metadata without the file.
  const tracked = { location: file, name: '_pacha', single: true };
  writeFileSync(path.join(root, 'state/tracked.json'), JSON.stringify({ version: 1, paths: [tracked] }));
  const [registered] = await store.list();
  await assert.rejects(store.commit(registered!), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'EUNTRACKABLE');
    assert.match(error.message, /home\/\.pacha: .*cannot be tracked alone/);
    return true;
  });
});
