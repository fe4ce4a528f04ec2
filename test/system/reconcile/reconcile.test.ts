// `pacha reconcile` after a real divergence on a real sshd master (an admin committed on the
// master while the host committed too): both ways, no commit lost on either side, the
// diverged ref removed, pushes resume.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { makeWorld, type World } from '../../helpers/world.js';

let world: World;
let dir: string;
let repo: string;
let gitDir: string;

const git = (where: string, ...args: string[]): string =>
  execFileSync('git', [...(where.endsWith('.git') ? ['--git-dir', where] : ['-C', where]), '-c', 'user.name=admin', '-c', 'user.email=admin@master', ...args], { encoding: 'utf8' }).trim();
const commits = (where: string, ref = 'main'): string[] => git(where, 'rev-list', ref).split('\n').filter(Boolean);
const divergedRefs = (): string[] => git(repo, 'for-each-ref', '--format=%(refname)', 'refs/pacha/diverged/').split('\n').filter(Boolean);

/** An admin commits on the master, the host commits too, `pacha push` finds them diverged. */
async function diverge(admin: Record<string, string>, host: Record<string, string>): Promise<{ master: string[]; local: string[] }> {
  for (const [name, content] of Object.entries(admin)) writeFileSync(path.join(repo, name), content);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'admin edit on the master');
  for (const [name, content] of Object.entries(host)) writeFileSync(path.join(dir, name), content);
  const pushed = await world.pacha(['push']);
  assert.equal(pushed.code, 4, pushed.stderr);
  assert.match(pushed.stderr, /diverged.*pacha reconcile .*--keep-local.*--keep-master/);
  assert.equal(divergedRefs().length, 1);
  const status = await world.pacha(['status']);
  assert.match(status.stdout, /DIVERGED since/);
  assert.match(status.stdout, new RegExp(`pacha reconcile ${dir.replace(/[/.]/g, '\\$&')} --keep-local`));
  return { master: commits(repo), local: commits(gitDir) };
}

before(async () => {
  world = await makeWorld({ ssh: true });
  dir = path.join(world.root, 'etc', 'app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a.conf'), 'a = 0\n');
  const watched = await world.pacha(['watch', dir]);
  assert.equal(watched.code, 0, watched.stderr);
  repo = path.join(world.masterDir, 'bar', 'app');
  gitDir = path.join(world.stateDir, 'repos', 'app.git');
});

describe('pacha reconcile', { concurrency: false }, () => {
  test('needs exactly one of --keep-local and --keep-master', async () => {
    const r = await world.pacha(['reconcile', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /exactly one of --keep-master and --keep-local/);
  });

  test("--keep-local: a merge commit with this host's tree on top of the master's history; nothing lost; pushes resume", async () => {
    const before = await diverge({ 'admin.conf': 'admin = 1\n' }, { 'a.conf': 'a = 1\n', 'local.conf': 'local = 1\n' });
    const r = await world.pacha(['--json', 'reconcile', dir, '--keep-local']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.relation, 'diverged');
    assert.equal(doc.push.status, 'pushed');
    assert.deepEqual(doc.removedRefs.length, 1);
    const head = git(repo, 'rev-parse', 'main');
    assert.equal(head, doc.head);
    assert.equal(git(gitDir, 'rev-parse', 'main'), head, 'both sides agree');
    assert.deepEqual(git(repo, 'log', '-1', '--format=%P', 'main').split(' '), [before.master[0], before.local[0]], "first parent: the master's head");
    const after = new Set(commits(repo));
    for (const sha of [...before.master, ...before.local]) assert.ok(after.has(sha), `commit ${sha} lost`);
    assert.match(git(repo, 'log', '-1', '--format=%B', 'main'), /^Pacha-Origin: reconcile$/m);
    // This host's tree: its files as they are here (the admin's file stays in the history).
    assert.equal(readFileSync(path.join(repo, 'a.conf'), 'utf8'), 'a = 1\n');
    assert.equal(readFileSync(path.join(repo, 'local.conf'), 'utf8'), 'local = 1\n');
    assert.ok(!existsSync(path.join(repo, 'admin.conf')));
    assert.equal(git(repo, 'show', `${before.master[0]}:admin.conf`), 'admin = 1');
    assert.deepEqual(divergedRefs(), []);
    const status = JSON.parse((await world.pacha(['--json', 'status'])).stdout);
    assert.equal(status.paths[0].diverged, null);
    writeFileSync(path.join(dir, 'a.conf'), 'a = 2\n');
    const pushed = await world.pacha(['push']);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(readFileSync(path.join(repo, 'a.conf'), 'utf8'), 'a = 2\n');
  });

  test("--keep-master: the master's history adopted; this host's files and history kept in backups and listed; nothing lost", async () => {
    const before = await diverge({ 'a.conf': 'a = admin\n' }, { 'a.conf': 'a = host\n', 'extra.conf': 'extra = 1\n' });
    const masterHead = before.master[0]!;
    const r = await world.pacha(['--json', 'reconcile', dir, '--keep-master']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.relation, 'diverged');
    assert.equal(doc.head, masterHead);
    assert.equal(git(gitDir, 'rev-parse', 'main'), masterHead, "this host is on the master's head");
    assert.equal(git(repo, 'rev-parse', 'main'), masterHead, 'nothing forced on the master');
    assert.ok(doc.differences.includes('a.conf') && doc.differences.includes('extra.conf'), doc.differences.join(','));
    // The files: the master's here; this host's in the backup dir.
    assert.equal(readFileSync(path.join(dir, 'a.conf'), 'utf8'), 'a = admin\n');
    assert.ok(!existsSync(path.join(dir, 'extra.conf')));
    assert.deepEqual(doc.movedAside, ['extra.conf']);
    assert.equal(readFileSync(path.join(doc.backupDir, dir, 'extra.conf'), 'utf8'), 'extra = 1\n');
    assert.equal(readFileSync(path.join(doc.backupDir, dir, 'a.conf'), 'utf8'), 'a = host\n');
    // This host's history: a bundle here and a ref on the master, each holding every local commit.
    execFileSync('git', ['--git-dir', gitDir, 'bundle', 'verify', '-q', doc.bundle], { stdio: 'pipe' });
    assert.match(doc.discardedRef, /^refs\/pacha\/discarded\/bar\/[0-9a-f]{12}$/);
    const kept = new Set(commits(repo, doc.discardedRef));
    for (const sha of before.local) assert.ok(kept.has(sha), `local commit ${sha} lost`);
    const onMaster = new Set(commits(repo));
    for (const sha of before.master) assert.ok(onMaster.has(sha), `master commit ${sha} lost`);
    assert.deepEqual(divergedRefs(), []);
    const human = await world.pacha(['status']);
    assert.doesNotMatch(human.stdout, /DIVERGED/);
    writeFileSync(path.join(dir, 'a.conf'), 'a = 3\n');
    const pushed = await world.pacha(['push']);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(git(repo, 'rev-parse', 'main~1'), masterHead, 'pushes resume on the master history');
  });

  test('when both sides agree there is nothing to reconcile', async () => {
    const r = await world.pacha(['reconcile', dir, '--keep-local']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /agree .*nothing to reconcile/);
  });
});
