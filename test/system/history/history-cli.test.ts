// pacha log, diff, show and rollback end to end: the built CLI, real git, a local master.
// One tracked directory goes through content edits, a chmod alone, a deleted owned file and
// an added file; every history command is checked against what really happened on disk.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { inodes, makeAccount, snapshot, type SnapshotEntry, type TestAccount } from '../../helpers/tree.js';
import { CLI, makeWorld, type World } from '../../helpers/world.js';

interface LoggedCommit {
  sha: string;
  time: string;
  subject: string;
  changes: Array<{ kind: string; path: string; detail?: string }>;
}

let world: World;
let account: TestAccount;
let foo: string;
/** The commits, oldest first, by what they did. */
const rev: Record<string, string> = {};
let initial: Record<string, SnapshotEntry>;
const BINARY = Buffer.from([0, 255, 1, 254, 10, 13, 0x80, 0x7f]);

async function ok(args: string[]): Promise<string> {
  const r = await world.pacha(args);
  assert.equal(r.code, 0, `pacha ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function log(target: string): Promise<LoggedCommit[]> {
  return (JSON.parse(await ok(['log', target, '--json'])) as { commits: LoggedCommit[] }).commits;
}

async function head(): Promise<string> {
  return (await log(foo))[0]!.sha;
}

/** Commit what changed (one `pacha push` cycle) and name the new commit. */
async function commitAs(name: string): Promise<void> {
  await ok(['push']);
  rev[name] = await head();
}

/** The raw bytes `pacha show` writes. */
function showBytes(file: string, at: string): Buffer {
  const r = spawnSync(process.execPath, [CLI, '-c', world.config, 'show', file, '--at', at], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
  });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

const modeOf = (file: string): number => lstatSync(file).mode & 0o7777;

before(async () => {
  world = await makeWorld({ ssh: false });
  account = makeAccount();
  foo = path.join(world.root, 'opt/foo');
  mkdirSync(path.join(foo, 'sub'), { recursive: true });
  writeFileSync(path.join(foo, 'app.conf'), 'listen = 80\n');
  chmodSync(path.join(foo, 'app.conf'), 0o644);
  writeFileSync(path.join(foo, 'owned.conf'), 'owned\n');
  chownSync(path.join(foo, 'owned.conf'), account.uid, account.gid);
  chmodSync(path.join(foo, 'owned.conf'), 0o640);
  writeFileSync(path.join(foo, 'sub/nested.conf'), 'deep = 1\n');
  writeFileSync(path.join(foo, 'blob.bin'), BINARY);
  await ok(['watch', foo]);
  rev.initial = await head();
  initial = snapshot(foo);

  writeFileSync(path.join(foo, 'app.conf'), 'listen = 8080\n');
  await commitAs('edit');
  chmodSync(path.join(foo, 'app.conf'), 0o600);
  await commitAs('chmod');
  rmSync(path.join(foo, 'owned.conf'));
  await commitAs('delete');
  writeFileSync(path.join(foo, 'sub/added.conf'), 'added\n');
  await commitAs('add');
});

test('log of the directory: every commit, newest first, with time and changed paths', async () => {
  const commits = await log(foo);
  assert.deepEqual(commits.map((c) => c.sha), [rev.add, rev.delete, rev.chmod, rev.edit, rev.initial]);
  for (const c of commits) assert.match(c.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
  assert.deepEqual(commits[0]!.changes, [{ kind: 'A', path: 'sub/added.conf' }]);
  assert.deepEqual(commits[1]!.changes, [{ kind: 'D', path: 'owned.conf' }]);
  assert.deepEqual(commits[2]!.changes, [{ kind: 'P', path: 'app.conf', detail: 'mode 0644→0600' }]);
  assert.deepEqual(
    (JSON.parse(await ok(['log', foo, '--limit', '2', '--json'])) as { commits: LoggedCommit[] }).commits.map((c) => c.sha),
    [rev.add, rev.delete],
  );
  const human = await ok(['log', foo]);
  assert.match(human, new RegExp(`^${rev.chmod!.slice(0, 12)} \\S+ .*\\n    P app\\.conf \\(mode 0644→0600\\)`, 'm'));
});

test('log of a file: the commits that changed its content or only its metadata, and no other', async () => {
  const commits = await log(path.join(foo, 'app.conf'));
  assert.deepEqual(commits.map((c) => c.sha), [rev.chmod, rev.edit, rev.initial]);
  assert.deepEqual(commits.map((c) => c.changes.map((x) => x.kind)), [['P'], ['M'], ['A']]);
  assert.deepEqual((await log(path.join(foo, 'sub'))).map((c) => c.sha), [rev.add, rev.initial]);
});

test('diff between two commits: the content change and the mode change', async () => {
  const r = JSON.parse(await ok(['diff', path.join(foo, 'app.conf'), '--from', rev.initial!, '--to', rev.chmod!, '--json'])) as {
    content: string;
    metadata: Array<{ path: string; status: string; fields: Array<{ field: string; from: string; to: string }> }>;
  };
  assert.match(r.content, /^-listen = 80$/m);
  assert.match(r.content, /^\+listen = 8080$/m);
  assert.deepEqual(r.metadata.map((d) => [d.path, d.status, d.fields]), [['app.conf', 'changed', [{ field: 'mode', from: '0644', to: '0600' }]]]);
  const human = await ok(['diff', foo, '--from', rev.edit!, '--to', rev.chmod!]);
  assert.equal(human, `metadata ${rev.edit!.slice(0, 12)}..${rev.chmod!.slice(0, 12)}:\n  app.conf: mode 0644 → 0600\n`);
});

test('diff by default: the last commit against the disk now, committing nothing', async () => {
  const before_ = await head();
  writeFileSync(path.join(foo, 'sub/nested.conf'), 'deep = 2\n');
  chownSync(path.join(foo, 'sub/added.conf'), account.uid, account.gid);
  const r = JSON.parse(await ok(['diff', foo, '--json'])) as { to: string; content: string; metadata: Array<{ path: string; fields: Array<{ field: string; to: string }> }> };
  assert.equal(r.to, 'disk');
  assert.match(r.content, /^\+deep = 2$/m);
  assert.doesNotMatch(r.content, /metadata\.json/);
  assert.deepEqual(
    r.metadata.map((d) => [d.path, d.fields.map((f) => `${f.field}=${f.to}`)]),
    [['sub/added.conf', [`user=${account.user}`, `group=${account.group}`]]],
  );
  assert.equal(await head(), before_);
  writeFileSync(path.join(foo, 'sub/nested.conf'), 'deep = 1\n');
  chownSync(path.join(foo, 'sub/added.conf'), 0, 0);
  assert.match(await ok(['diff', foo]), /^no differences in /);
});

test('show at an old revision: the bytes exactly, and the metadata with --json', async () => {
  assert.equal(showBytes(path.join(foo, 'app.conf'), rev.initial!).toString(), 'listen = 80\n');
  assert.deepEqual(showBytes(path.join(foo, 'blob.bin'), 'HEAD'), BINARY);
  const r = JSON.parse(await ok(['show', path.join(foo, 'owned.conf'), '--at', rev.chmod!, '--json'])) as {
    entry: { mode: number; user: { name: string; id: number } };
    content: string;
    revision: { sha: string };
  };
  assert.equal(r.content, 'owned\n');
  assert.equal(r.entry.mode, 0o640);
  assert.deepEqual(r.entry.user, { id: account.uid, name: account.user });
  assert.equal(r.revision.sha, rev.chmod);
  const dir = await ok(['show', path.join(foo, 'sub'), '--at', rev.initial!]);
  assert.match(dir, /^directory +0755 +root:root  sub\nfile +0644 +root:root  sub\/nested\.conf\n$/);
  const gone = await world.pacha(['show', path.join(foo, 'owned.conf'), '--at', rev.add!]);
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /owned\.conf did not exist at /);
});

test('a bad REV is exit 2 with a clear message; so is a path that is not tracked', async () => {
  const bad = await world.pacha(['rollback', path.join(foo, 'app.conf'), '--to', 'no-such-rev']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /'no-such-rev' is neither a commit of .*opt\/foo nor a time/);
  assert.match(bad.stderr, /pacha log PATH/);
  const option = await world.pacha(['diff', foo, '--from', '--output=/tmp/x']);
  assert.equal(option.code, 2);
  const old = await world.pacha(['show', path.join(foo, 'app.conf'), '--at', '2 hours ago']);
  assert.equal(old.code, 2);
  assert.match(old.stderr, /no commit of .* is as old as .*its first commit is from/);
  const untracked = await world.pacha(['log', world.root]);
  assert.equal(untracked.code, 2);
  assert.match(untracked.stderr, /is not tracked/);
});

test('--dry-run says what would change and changes nothing', async () => {
  const stamps = inodes(foo);
  const state = snapshot(foo);
  const before_ = await head();
  const r = await world.pacha(['rollback', foo, '--to', rev.initial!, '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /replace +app\.conf \(content differs\)/);
  assert.match(r.stdout, /create +owned\.conf/);
  assert.match(r.stdout, /move aside +sub\/added\.conf/);
  assert.match(r.stdout, /dry run: nothing was touched/);
  assert.deepEqual(inodes(foo), stamps);
  assert.deepEqual(snapshot(foo), state);
  assert.equal(await head(), before_);
});

test("rollback of a file's content: a new commit, on the master's working copy too", async () => {
  const r = await world.pacha(['rollback', path.join(foo, 'app.conf'), '--to', rev.initial!, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { commit: { sha: string }; push: { status: string } };
  assert.equal(readFileSync(path.join(foo, 'app.conf'), 'utf8'), 'listen = 80\n');
  assert.equal(modeOf(path.join(foo, 'app.conf')), 0o644);
  assert.equal(result.push.status, 'pushed');
  const commits = await log(foo);
  assert.equal(commits[0]!.sha, result.commit.sha);
  assert.match(commits[0]!.subject, new RegExp(`^rollback .*app\\.conf to ${rev.initial!.slice(0, 12)}`));
  assert.deepEqual(commits.slice(1).map((c) => c.sha), [rev.add, rev.delete, rev.chmod, rev.edit, rev.initial], 'history is not rewritten');
  assert.equal(readFileSync(path.join(world.masterDir, 'bar/foo/app.conf'), 'utf8'), 'listen = 80\n');
  rev.rollbackFile = result.commit.sha;
});

test('rollback of a chmod alone puts the mode back without rewriting the file', async () => {
  chmodSync(path.join(foo, 'app.conf'), 0o600);
  await commitAs('chmod2');
  const inode = lstatSync(path.join(foo, 'app.conf')).ino;
  const r = await world.pacha(['rollback', path.join(foo, 'app.conf'), '--to', 'HEAD~1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /update-metadata +app\.conf \(mode 0600 → 0644\)/);
  assert.equal(modeOf(path.join(foo, 'app.conf')), 0o644);
  assert.equal(lstatSync(path.join(foo, 'app.conf')).ino, inode);
  assert.deepEqual((await log(path.join(foo, 'app.conf')))[0]!.changes, [{ kind: 'P', path: 'app.conf', detail: 'mode 0600→0644' }]);
});

test('rollback of a deleted file brings it back with its owner and mode', async () => {
  const r = await world.pacha(['rollback', path.join(foo, 'owned.conf'), '--to', rev.chmod!]);
  assert.equal(r.code, 0, r.stderr);
  const st = lstatSync(path.join(foo, 'owned.conf'));
  assert.equal(readFileSync(path.join(foo, 'owned.conf'), 'utf8'), 'owned\n');
  assert.equal(st.mode & 0o7777, 0o640);
  assert.equal(st.uid, account.uid);
  assert.equal(st.gid, account.gid);
  assert.ok(existsSync(path.join(foo, 'sub/added.conf')), 'a file rollback leaves the rest alone');
  assert.equal(lstatSync(path.join(world.masterDir, 'bar/foo/owned.conf')).isFile(), true);
});

test('rollback of a file that did not exist at REV moves it to the backups', async () => {
  const r = await world.pacha(['rollback', path.join(foo, 'sub/added.conf'), '--to', rev.initial!, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { movedAside: Array<{ path: string; backup: string }> };
  assert.deepEqual(result.movedAside.map((m) => m.path), ['sub/added.conf']);
  assert.equal(existsSync(path.join(foo, 'sub/added.conf')), false);
  assert.equal(readFileSync(result.movedAside[0]!.backup, 'utf8'), 'added\n');
  assert.equal(readFileSync(path.join(foo, 'sub/nested.conf'), 'utf8'), 'deep = 1\n', 'its siblings are left alone');
  assert.equal(existsSync(path.join(world.masterDir, 'bar/foo/sub/added.conf')), false);
  const again = await world.pacha(['rollback', path.join(foo, 'sub/added.conf'), '--to', rev.initial!]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /did not exist at .* and does not exist now/);
});

test('rollback of the whole directory: equal to REV, files added since moved to the backups', async () => {
  writeFileSync(path.join(foo, 'sub/added.conf'), 'added, then edited and not committed\n');
  const r = await world.pacha(['rollback', foo, '--to', rev.initial!, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { before: { changed: string[] } | null; movedAside: Array<{ path: string; backup: string }> };
  assert.deepEqual(snapshot(foo), initial);
  assert.deepEqual(result.before?.changed, ['sub/added.conf'], 'what was on disk is committed first');
  assert.deepEqual(result.movedAside.map((m) => m.path), ['sub/added.conf']);
  const backup = result.movedAside[0]!.backup;
  assert.ok(backup.startsWith(path.join(world.stateDir, 'backups')));
  assert.ok(backup.endsWith(path.join(foo, 'sub/added.conf')));
  assert.equal(readFileSync(backup, 'utf8'), 'added, then edited and not committed\n');
  assert.equal(existsSync(path.join(world.masterDir, 'bar/foo/sub/added.conf')), false);
  assert.match(await ok(['diff', foo, '--from', rev.initial!]), /^no differences in /);
});

test('rollback of a directory deleted entirely brings it all back', async () => {
  rmSync(foo, { recursive: true, force: true });
  const r = await world.pacha(['rollback', foo, '--to', 'HEAD']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(snapshot(foo), initial);
});

test('rollback by time: the last commit at or before it', async () => {
  const target = (await log(foo))[0]!;
  // Commit times have a resolution of one second: the next commit must be a second later.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  writeFileSync(path.join(foo, 'app.conf'), 'listen = 9090\n');
  await commitAs('later');
  const r = JSON.parse(await ok(['rollback', path.join(foo, 'app.conf'), '--to', target.time, '--json'])) as {
    revision: { sha: string; asOf: string };
  };
  assert.equal(r.revision.sha, target.sha);
  assert.equal(new Date(r.revision.asOf).getTime(), new Date(target.time).getTime());
  assert.equal(readFileSync(path.join(foo, 'app.conf'), 'utf8'), 'listen = 80\n');
  const relative = JSON.parse(await ok(['show', path.join(foo, 'app.conf'), '--at', '0 seconds ago', '--json'])) as { revision: { sha: string } };
  assert.equal(relative.revision.sha, await head());
});

test('a single tracked file: log, show and rollback', async () => {
  const etc = path.join(world.root, 'etc');
  mkdirSync(etc, { recursive: true });
  const file = path.join(etc, 'motd');
  writeFileSync(path.join(etc, 'beside'), 'not tracked\n');
  writeFileSync(file, 'hello\n');
  await ok(['watch', '--single', file]);
  writeFileSync(file, 'goodbye\n');
  chmodSync(file, 0o600);
  await ok(['push']);
  const commits = await log(file);
  assert.equal(commits.length, 2);
  assert.deepEqual(commits[0]!.changes.map((c) => c.kind), ['M']);
  assert.equal(showBytes(file, 'HEAD~1').toString(), 'hello\n');
  const r = await world.pacha(['rollback', file, '--to', 'HEAD~1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(file, 'utf8'), 'hello\n');
  assert.equal(modeOf(file), 0o644);
  assert.equal(readFileSync(path.join(etc, 'beside'), 'utf8'), 'not tracked\n');
  assert.deepEqual(readdirSync(etc).sort(), ['beside', 'motd']);
});
