import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TreeWatcher, walkDirectories } from '../../../src/daemon/watcher.js';
import { decodeName, fsPath } from '../../../src/fs/names.js';
import { tempDir } from '../../helpers/tmp.js';

/** Resolves with the first 'change' that satisfies `match`; rejects after 10 s. */
function nextChange(w: TreeWatcher, match: (file: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      w.off('change', on);
      reject(new Error('no matching change event within 10 s'));
    }, 10_000);
    const on = (file: string) => {
      if (!match(file)) return;
      clearTimeout(timer);
      w.off('change', on);
      resolve(file);
    };
    w.on('change', on);
  });
}

/** The watch on a new directory may be added just after a write: keep writing until the watcher reports the file. */
async function writeUntilSeen(w: TreeWatcher, file: string): Promise<void> {
  const seen = nextChange(w, (f) => f === file);
  const writer = setInterval(() => writeFileSync(file, `t ${Date.now()}\n`), 50);
  try {
    assert.equal(await seen, file);
  } finally {
    clearInterval(writer);
  }
}

async function started(root: string, options = {}): Promise<TreeWatcher> {
  const w = new TreeWatcher(root, options);
  after(() => w.close());
  await w.start();
  return w;
}

function tree(): string {
  const root = tempDir();
  mkdirSync(path.join(root, 'a/b/c'), { recursive: true });
  writeFileSync(path.join(root, 'a/b/c/deep.conf'), 'x = 1\n');
  return root;
}

test('an edit inside a file in a deep subdirectory is reported', async () => {
  const root = tree();
  const w = await started(root);
  assert.equal(w.watchedDirectories, 4);
  const file = path.join(root, 'a/b/c/deep.conf');
  const seen = nextChange(w, (f) => f === file);
  writeFileSync(file, 'x = 2\n');
  assert.equal(await seen, file);
});

test('names that are not UTF-8: such a directory is watched, and a change is reported under the name pacha reads it by', async () => {
  const root = tempDir();
  const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => Buffer.from(p as string)));
  mkdirSync(bytes(root, '/caf', [0xe9]));
  writeFileSync(bytes(root, '/caf', [0xe9], '/inner.conf'), 'x\n');
  const w = await started(root);
  assert.equal(w.watchedDirectories, 2, 'the directory whose name is Latin-1 has its watch');
  const dir = path.join(root, decodeName(bytes('caf', [0xe9])));
  assert.equal(dir, path.join(root, 'caf\udce9'));
  const inner = path.join(dir, 'inner.conf');
  const seenInner = nextChange(w, (f) => f === inner);
  writeFileSync(fsPath(inner), 'y\n');
  assert.equal(await seenInner, inner);
  const odd = path.join(root, decodeName(bytes('n', [0xff, 0xfe], '.conf')));
  const seenOdd = nextChange(w, (f) => f === odd);
  writeFileSync(fsPath(odd), 'z\n');
  assert.equal(await seenOdd, odd, 'a file whose name is not UTF-8 is reported by its own name, not U+FFFD');
});

test('a new directory tree is watched, including what was made inside it at once', async () => {
  const root = tree();
  const w = await started(root);
  const made = nextChange(w, (f) => f === path.join(root, 'n'));
  mkdirSync(path.join(root, 'n/o/p'), { recursive: true });
  await made;
  const file = path.join(root, 'n/o/p/new.conf');
  await writeUntilSeen(w, file);
  assert.equal(w.watchedDirectories, 7);
});

test('a moved directory is reported under its new name; the old watches go', async () => {
  const root = tree();
  const w = await started(root);
  const moved = nextChange(w, (f) => f === path.join(root, 'z'));
  renameSync(path.join(root, 'a'), path.join(root, 'z'));
  await moved;
  const file = path.join(root, 'z/b/c/deep.conf');
  await writeUntilSeen(w, file);
  assert.deepEqual((await walkDirectories(root)).length, w.watchedDirectories);
});

test("pacha's own temp names are ignored, everything else is not", async () => {
  const root = tree();
  const w = await started(root);
  const files: string[] = [];
  w.on('change', (f) => files.push(f));
  const sentinel = path.join(root, 'a/b/c/.vimswap.swp');
  const seen = nextChange(w, (f) => f === sentinel);
  writeFileSync(path.join(root, 'a/b/c/.pacha-tmp-123'), 'x');
  writeFileSync(sentinel, 'x'); // inotify keeps the order of one directory's events
  await seen;
  assert.ok(files.length > 0);
  assert.ok(files.every((f) => !path.basename(f).startsWith('.pacha-tmp-')), files.join(', '));
});

test('a removed directory drops its watches', async () => {
  const root = tree();
  const w = await started(root);
  const gone = nextChange(w, (f) => f === path.join(root, 'a'));
  rmSync(path.join(root, 'a'), { recursive: true });
  await gone;
  await w.resync();
  assert.equal(w.watchedDirectories, 1);
});

test('a single tracked file: only its name in its directory is reported', async () => {
  const root = tree();
  const target = path.join(root, 'only.conf');
  writeFileSync(target, 'a\n');
  const w = await started(target, { single: true });
  const files: string[] = [];
  w.on('change', (f) => files.push(f));
  const seen = nextChange(w, (f) => f === target);
  writeFileSync(path.join(root, 'other.conf'), 'b\n');
  writeFileSync(target + '.tmp', 'c\n');
  renameSync(target + '.tmp', target); // an editor's save
  await seen;
  assert.deepEqual([...new Set(files)], [target]);
});

test('a burst near the kernel queue size asks for a rescan', async () => {
  const root = tree();
  const w = await started(root, { suspectLossAfter: 50 });
  const rescan = new Promise<string>((resolve) => w.once('rescan', resolve));
  for (let i = 0; i < 200; i++) writeFileSync(path.join(root, `burst-${i}`), 'x');
  assert.match(await rescan, /may have overflowed/);
});

test('out of inotify watches: a clear error naming the sysctl and the count, then degraded', () => {
  const root = tempDir();
  for (let i = 0; i < 40; i++) mkdirSync(path.join(root, `d${i}/e`), { recursive: true });
  const fixture = fileURLToPath(new URL('./fixtures/watch-limit.ts', import.meta.url));
  // A user namespace of our own, with its own low watch limit: the real kernel limit, without touching the host's.
  const r = spawnSync(
    'unshare',
    ['-Ur', 'sh', '-c', 'echo 20 > /proc/sys/user/max_inotify_watches && exec "$0" --import tsx "$1" "$2"', process.execPath, fixture, root],
    { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(out.code, 'EWATCHLIMIT');
  assert.equal(out.state, 'degraded');
  assert.equal(out.watched, 0);
  assert.match(out.message, /fs\.inotify\.max_user_watches is \d+ \(user\.max_inotify_watches of this user namespace is 20\)/);
  assert.match(out.message, /needs 81 watches/);
  assert.match(out.hint, /sysctl fs\.inotify\.max_user_watches=/);
});
