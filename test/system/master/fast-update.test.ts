// The daemon's push in one round trip (master/fast-update.ts through a kept `sh`,
// master/shell-session.ts) against a real sshd and real git on both sides: it moves the
// branch, the index and the working copy as receive.denyCurrentBranch=updateInstead would,
// per path (a change on the master in a path the update does not touch stays), and in every
// unusual case it changes nothing that matters and answers false, so that git push decides
// (a moved branch is a divergence, a dirty working copy a rejection).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FAST_UPDATE_MAX_PATCH_BYTES, PRINTF_MAX_PACK_BYTES } from '../../../src/master/fast-update.js';
import { repositoryDir } from '../../../src/master/layout.js';
import type { SshMaster } from '../../../src/master/ssh-master.js';
import { REFUSED_STATUS, sessionUpdateLine } from '../../../src/master/gate/protocol.js';
import { serve } from '../../../src/master/gate/serve.js';
import { makeWorld, type World } from '../../helpers/world.js';
import { changedContentBytes, packBetween, pushInOneRoundTrip } from '../../../src/store/fast-push.js';
import type { PackObject } from '../../../src/store/pack-file.js';
import { cleanup, startSshd, type Sshd } from '../../helpers/sshd.js';
import { openTestSshMaster } from '../../helpers/ssh-master.js';
import { tempDir } from '../../helpers/tmp.js';
import { scratchRepository } from './behaviour.js';

let sshd: Sshd;
before(async () => {
  sshd = await startSshd();
});
after(async () => {
  await sshd.stop();
  cleanup(sshd.dir);
});

const git = (cwd: string, args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' }).trim();

async function setUp(keep = true): Promise<{ master: SshMaster; scratch: string; repo: string; first: string }> {
  const hostsPath = path.join(tempDir('pacha-master-'), 'hosts');
  mkdirSync(hostsPath);
  const master = await openTestSshMaster(sshd, hostsPath);
  if (keep) master.keepConnection();
  await master.ensureRepository('bar', 'foo');
  const scratch = scratchRepository({ 'a.conf': 'a = 1\n', 'gone.conf': 'bye\n' });
  execFileSync('git', ['push', '-q', master.repositoryUrl('bar', 'foo'), 'main'], { cwd: scratch, env: master.gitEnv() });
  return { master, scratch, repo: repositoryDir(hostsPath, 'bar', 'foo'), first: git(scratch, ['rev-parse', 'HEAD']) };
}

/** The same, on a master reached through the gate (pacha-gate session, one kept pacha serve). */
async function setUpGated(): Promise<{ world: World; master: SshMaster; scratch: string; repo: string; first: string }> {
  const world = await makeWorld({ ssh: true, gate: true });
  const master = await openTestSshMaster(world.sshd!, world.masterDir, { stateDir: world.stateDir, hostKey: undefined, knownHosts: world.sshd!.knownHosts });
  master.keepConnection();
  await master.ensureRepository('bar', 'foo');
  const scratch = scratchRepository({ 'a.conf': 'a = 1\n', 'gone.conf': 'bye\n' });
  execFileSync('git', ['push', '-q', master.repositoryUrl('bar', 'foo'), 'main'], { cwd: scratch, env: master.gitEnv() });
  return { world, master, scratch, repo: repositoryDir(world.masterDir, 'bar', 'foo'), first: git(scratch, ['rev-parse', 'HEAD']) };
}

/** A second commit: one file changed, one removed, one added with an awkward name. */
function secondCommit(scratch: string, tag = '2'): string {
  writeFileSync(path.join(scratch, 'a.conf'), `a = ${tag}\n`);
  rmSync(path.join(scratch, 'gone.conf'), { force: true });
  writeFileSync(path.join(scratch, `new ${tag} 'q' $x.conf`), `new ${tag}\n`);
  git(scratch, ['add', '-A']);
  git(scratch, ['commit', '-q', '-m', `edit ${tag}`]);
  return git(scratch, ['rev-parse', 'HEAD']);
}

test('one round trip: branch, index and working copy move to the new commit; clean, private, fsck-clean', async () => {
  const { master, scratch, repo, first } = await setUp();
  try {
    // A repository made by an older pacha: no split index.
    git(repo, ['config', '--unset', 'core.splitIndex']);
    git(repo, ['update-index', '--no-split-index']);
    assert.equal(git(repo, ['rev-parse', '--shared-index-path']), '');
    const second = secondCommit(scratch);
    assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), first, second), true);
    assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), second);
    const shared = git(repo, ['rev-parse', '--shared-index-path']);
    assert.notEqual(shared, '', 'the update split the index (one edit then writes a small index, not all of it)');
    assert.equal(statSync(path.resolve(repo, shared)).mode & 0o077, 0, 'the shared index is private');
    assert.equal(readFileSync(path.join(repo, 'a.conf'), 'utf8'), 'a = 2\n');
    assert.equal(existsSync(path.join(repo, 'gone.conf')), false);
    const added = path.join(repo, "new 2 'q' $x.conf");
    assert.equal(readFileSync(added, 'utf8'), 'new 2\n');
    assert.equal(statSync(added).mode & 0o077, 0, 'a file the update writes is private (umask 077)');
    assert.equal(git(repo, ['status', '--porcelain']), '', 'index and working copy agree with the branch');
    git(repo, ['fsck', '--strict', '--no-dangling']);
    // And again, on the same kept session.
    const third = secondCommit(scratch, '3');
    assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), second, third), true);
    assert.equal(readFileSync(path.join(repo, 'a.conf'), 'utf8'), 'a = 3\n');
    assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), third);
  } finally {
    await master.close();
  }
});

test('a pack too big for a printf format goes by base64: the same update, byte for byte', async () => {
  const { master, scratch, repo, first } = await setUp();
  try {
    const noise = Buffer.alloc(3 * PRINTF_MAX_PACK_BYTES);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    writeFileSync(path.join(scratch, 'noise.bin'), noise);
    git(scratch, ['add', '-A']);
    git(scratch, ['commit', '-q', '-m', 'noise']);
    const second = git(scratch, ['rev-parse', 'HEAD']);
    assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), first, second), true);
    assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), second);
    assert.ok(readFileSync(path.join(repo, 'noise.bin')).equals(noise));
    assert.equal(git(repo, ['status', '--porcelain']), '');
  } finally {
    await master.close();
  }
});

test('a branch that is not the commit last acknowledged is left alone (git push decides: a divergence)', async () => {
  const { master, scratch, repo, first } = await setUp();
  try {
    // Someone moved the master's branch (another writer, a reconcile there).
    writeFileSync(path.join(repo, 'a.conf'), 'moved on the master\n');
    git(repo, ['commit', '-q', '-am', 'on the master']);
    const theirs = git(repo, ['rev-parse', 'HEAD']);
    const second = secondCommit(scratch);
    assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), first, second), false);
    assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), theirs);
    assert.equal(readFileSync(path.join(repo, 'a.conf'), 'utf8'), 'moved on the master\n');
    assert.equal(git(repo, ['status', '--porcelain']), '');
  } finally {
    await master.close();
  }
});

test('a working copy with changes on the master is left alone, as updateInstead would refuse it', async () => {
  const { master, scratch, repo, first } = await setUp();
  try {
    writeFileSync(path.join(repo, 'gone.conf'), 'an admin edited this here\n');
    const second = secondCommit(scratch);
    assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), first, second), false);
    assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), first);
    assert.equal(readFileSync(path.join(repo, 'gone.conf'), 'utf8'), 'an admin edited this here\n');
    assert.equal(readFileSync(path.join(repo, 'a.conf'), 'utf8'), 'a = 1\n');
  } finally {
    await master.close();
  }
});

test('a dropped connection under the session: at most one update answers false, the next opens a new session', async () => {
  const { master, scratch, repo, first } = await setUp();
  try {
    const second = secondCommit(scratch);
    assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), first, second), true);
    assert.ok(sshd.dropSessions() > 0);
    const third = secondCommit(scratch, '3');
    const result = await pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), second, third);
    if (!result) assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), second, third), true);
    assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), third);
  } finally {
    await master.close();
  }
});

test('only a daemon (keepConnection) pushes this way; a pack over the limit goes by git push', async () => {
  const { master, scratch, repo, first } = await setUp(false);
  try {
    const second = secondCommit(scratch);
    assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), first, second), false);
    assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), first);
    assert.equal(await packBetween(path.join(scratch, '.git'), first, second, 10), undefined);
    assert.ok((await packBetween(path.join(scratch, '.git'), first, second))!.subarray(0, 4).equals(Buffer.from('PACK')));
  } finally {
    await master.close();
  }
});

test('through the gate (pacha-gate session): the same update, the same refusals, one kept pacha serve', async () => {
  const { world, master, scratch, repo, first } = await setUpGated();
  try {
    assert.equal(await master.isGated(), true);
    const second = secondCommit(scratch);
    assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), first, second), true);
    assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), second);
    assert.equal(readFileSync(path.join(repo, "new 2 'q' $x.conf"), 'utf8'), 'new 2\n');
    assert.equal(git(repo, ['status', '--porcelain']), '');
    // A stale FROM: refused by the compare-and-swap, nothing moved, and the session goes on.
    const third = secondCommit(scratch, '3');
    assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), first, third), false);
    assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), second);
    assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), second, third), true);
    assert.equal(readFileSync(path.join(repo, 'a.conf'), 'utf8'), 'a = 3\n');
    const log = readFileSync(path.join(world.dir, 'serve.log'), 'utf8');
    assert.match(log, /apply-update foo [0-9a-f]{12}\.\.[0-9a-f]{12} status 0/);
    assert.match(log, /apply-update foo .* status 94/);
    assert.equal(log.match(/: session exit|pacha serve bar: session/g)?.length ?? 0, 0, 'one session, still open');
  } finally {
    await master.close();
    await world.sshd!.stop();
  }
});

test("serve(): a session's requests never reach past the key's own host, a symlink planted in it is refused", async () => {
  const root = tempDir('pacha-gate-session-');
  const hostsPath = path.join(root, 'hosts');
  mkdirSync(path.join(hostsPath, 'alpha'), { recursive: true });
  const bravo = scratchRepository({ 'secret.conf': 'bravo\n' });
  mkdirSync(path.join(hostsPath, 'bravo'));
  execFileSync('mv', [bravo, path.join(hostsPath, 'bravo', 'etc')]);
  symlinkSync(path.join(hostsPath, 'bravo', 'etc'), path.join(hostsPath, 'alpha', 'etc'));
  const bravoHead = git(path.join(hostsPath, 'bravo', 'etc'), ['rev-parse', 'HEAD']);
  const scratch = scratchRepository({ 'x.conf': 'x\n' });
  const from = git(scratch, ['rev-parse', 'HEAD']);
  const to = secondCommit(scratch);
  const pack = (await packBetween(path.join(scratch, '.git'), from, to))!;
  const requests = [
    `${sessionUpdateLine('etc', from, to, pack.length)}`,
    `${sessionUpdateLine('../bravo/etc', from, to, pack.length)}`,
    `apply-update bravo/etc ${from} ${to} ${pack.length}\n`,
  ];
  for (const line of requests) {
    const out = new PassThrough();
    const err = new PassThrough();
    const status = await serve({ host: 'alpha', hostsPath, command: 'pacha-gate session', stdin: Readable.from([Buffer.from(line), pack]), stdout: out, stderr: err, logFile: path.join(root, 'log') });
    assert.equal(status, REFUSED_STATUS, line);
    assert.match(String(err.read()), /^pacha serve: refused: /);
    assert.equal(git(path.join(hostsPath, 'bravo', 'etc'), ['rev-parse', 'HEAD']), bravoHead);
    assert.notEqual(spawnSync('git', ['cat-file', '-e', to], { cwd: path.join(hostsPath, 'bravo', 'etc') }).status, 0, "no object reached bravo's repository");
  }
});

test('a pack whose commit names objects the master lacks is refused (unpack-objects --strict), nothing moves', async () => {
  const { master, scratch, repo, first } = await setUp();
  try {
    const second = secondCommit(scratch);
    // The commit alone, without its tree and blobs: what a broken or hostile client could send.
    const commitOnly = execFileSync('git', ['pack-objects', '--stdout', '-q'], { cwd: scratch, input: `${second}\n` });
    assert.equal(await master.applyUpdate('bar', 'foo', { from: first, to: second, pack: async () => commitOnly }), false);
    assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), first);
    assert.equal(readFileSync(path.join(repo, 'a.conf'), 'utf8'), 'a = 1\n');
    assert.notEqual(spawnSync('git', ['cat-file', '-e', second], { cwd: repo }).status, 0, 'the commit was not written');
  } finally {
    await master.close();
  }
});

test("the objects a live commit wrote, packed by pacha itself: the same update; one missing and nothing moves", async () => {
  const { master, scratch, repo, first } = await setUp();
  try {
    const second = secondCommit(scratch);
    const ids = git(scratch, ['rev-list', '--objects', second, `^${first}`]).split('\n').map((line) => line.split(' ')[0]!);
    const objects: PackObject[] = ids.map((id) => ({
      type: git(scratch, ['cat-file', '-t', id]) as PackObject['type'],
      content: execFileSync('git', ['cat-file', git(scratch, ['cat-file', '-t', id]), id], { cwd: scratch }),
    }));
    const gitDir = path.join(scratch, '.git');
    const withoutTree = objects.filter((o) => o.type !== 'tree');
    assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', gitDir, first, second, withoutTree), false);
    assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), first, 'a pack missing a tree moves nothing');
    assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', gitDir, first, second, objects), true);
    assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), second);
    assert.equal(readFileSync(path.join(repo, 'a.conf'), 'utf8'), 'a = 2\n');
    assert.equal(git(repo, ['status', '--porcelain']), '');
    git(repo, ['fsck', '--strict', '--no-dangling']);
  } finally {
    await master.close();
  }
});

/**
 * The update looks only at the paths the commits change (issue 14): what an admin left
 * elsewhere on the master stays as it is; anything in a changed path (an edit, an untracked
 * or ignored file the update would overwrite) refuses it; names are literal, never globs.
 */
async function scopedUpdate(master: SshMaster, repo: string, scratch: string, first: string): Promise<void> {
  const push = (from: string, to: string) => pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), from, to);
  const commit = (edit: () => void, tag: string): string => {
    edit();
    git(scratch, ['add', '-A']);
    git(scratch, ['commit', '-q', '-m', tag]);
    return git(scratch, ['rev-parse', 'HEAD']);
  };
  // An admin's edit of a.conf, a file no commit below changes: left alone, never blocks.
  writeFileSync(path.join(repo, 'a.conf'), 'an admin edited this here\n');
  // A name that is a glob matching a.conf, one with a newline, a file in a directory of its own.
  const second = commit(() => {
    writeFileSync(path.join(scratch, '*.conf'), 'star\n');
    writeFileSync(path.join(scratch, 'line\nbreak.conf'), 'nl\n');
    mkdirSync(path.join(scratch, 'dir'));
    writeFileSync(path.join(scratch, 'dir', 'only.conf'), 'only\n');
    writeFileSync(path.join(scratch, 'becomes-dir'), 'a file for now\n');
  }, 'names');
  assert.equal(await push(first, second), true);
  assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), second);
  assert.equal(readFileSync(path.join(repo, 'a.conf'), 'utf8'), 'an admin edited this here\n', 'a glob-looking name is literal: a.conf is not checked out');
  assert.equal(readFileSync(path.join(repo, '*.conf'), 'utf8'), 'star\n');
  assert.equal(readFileSync(path.join(repo, 'line\nbreak.conf'), 'utf8'), 'nl\n');
  assert.equal(git(repo, ['status', '--porcelain']), 'M a.conf', 'only the admin\'s edit differs from the branch');

  // A file that becomes a directory, a directory's last file removed, a removed name with a newline.
  const third = commit(() => {
    rmSync(path.join(scratch, 'becomes-dir'));
    mkdirSync(path.join(scratch, 'becomes-dir'));
    writeFileSync(path.join(scratch, 'becomes-dir', 'inside.conf'), 'inside\n');
    rmSync(path.join(scratch, 'dir'), { recursive: true });
    rmSync(path.join(scratch, 'line\nbreak.conf'));
  }, 'types');
  assert.equal(await push(second, third), true);
  assert.equal(readFileSync(path.join(repo, 'becomes-dir', 'inside.conf'), 'utf8'), 'inside\n');
  assert.equal(existsSync(path.join(repo, 'dir')), false, 'the emptied directory leaves');
  assert.equal(existsSync(path.join(repo, 'line\nbreak.conf')), false);
  assert.equal(git(repo, ['status', '--porcelain']), 'M a.conf');

  // An untracked file, then an ignored one, where the next commit adds a file: refused, kept.
  const fourth = commit(() => writeFileSync(path.join(scratch, 'added.conf'), 'from the host\n'), 'add');
  writeFileSync(path.join(repo, 'added.conf'), 'an admin put this here\n');
  assert.equal(await push(third, fourth), false);
  assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), third);
  assert.equal(readFileSync(path.join(repo, 'added.conf'), 'utf8'), 'an admin put this here\n');
  writeFileSync(path.join(repo, '.git', 'info', 'exclude'), 'added.conf\n');
  assert.equal(await push(third, fourth), false, 'an ignored file is not overwritten either');
  assert.equal(readFileSync(path.join(repo, 'added.conf'), 'utf8'), 'an admin put this here\n');
  rmSync(path.join(repo, 'added.conf'));
  assert.equal(await push(third, fourth), true);
  assert.equal(readFileSync(path.join(repo, 'added.conf'), 'utf8'), 'from the host\n');
  assert.deepEqual(readdirSync(path.join(repo, '.git')).filter((n) => n.startsWith('pacha-')), [], 'no patch or index of pacha left behind');
  git(repo, ['fsck', '--strict', '--no-dangling']);
}

test('per path, not per tree: an edit elsewhere on the master stays, one in a changed path refuses; names are literal', async () => {
  const { master, scratch, repo, first } = await setUp();
  try {
    await scopedUpdate(master, repo, scratch, first);
  } finally {
    await master.close();
  }
});

test('per path through the gate: the same', async () => {
  const { world, master, scratch, repo, first } = await setUpGated();
  try {
    await scopedUpdate(master, repo, scratch, first);
    assert.match(readFileSync(path.join(world.dir, 'serve.log'), 'utf8'), /apply-update foo .* status 95/);
  } finally {
    await master.close();
    await world.sshd!.stop();
  }
});

test('a symlink replaced by a directory of the same name: the file lands in the new directory, never through the old link', async () => {
  const { master, scratch, repo, first } = await setUp();
  const outside = tempDir('pacha-outside-');
  try {
    const commit = (edit: () => void, tag: string): string => {
      edit();
      git(scratch, ['add', '-A']);
      git(scratch, ['commit', '-q', '-m', tag]);
      return git(scratch, ['rev-parse', 'HEAD']);
    };
    const push = (from: string, to: string) => pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), from, to);
    const second = commit(() => symlinkSync(outside, path.join(scratch, 'lnk')), 'a link out');
    assert.equal(await push(first, second), true);
    assert.equal(lstatSync(path.join(repo, 'lnk')).isSymbolicLink(), true);
    const third = commit(() => {
      rmSync(path.join(scratch, 'lnk'));
      mkdirSync(path.join(scratch, 'lnk'));
      writeFileSync(path.join(scratch, 'lnk', 'evil'), 'planted\n');
    }, 'the link becomes a directory');
    assert.equal(await push(second, third), true);
    assert.deepEqual(readdirSync(outside), [], 'nothing written through the old link');
    assert.equal(lstatSync(path.join(repo, 'lnk')).isDirectory(), true);
    assert.equal(readFileSync(path.join(repo, 'lnk', 'evil'), 'utf8'), 'planted\n');
    assert.equal(git(repo, ['status', '--porcelain']), '');
  } finally {
    await master.close();
  }
});

/**
 * A change whose patch would be bigger than FAST_UPDATE_MAX_PATCH_BYTES (a big file removed:
 * a pack of a few hundred bytes, a patch of the whole file): the daemon does not ask
 * (pushInOneRoundTrip weighs it first), and a master asked anyway (an older pacha, a hostile
 * host) stops writing the patch at the limit, answers false and moves nothing.
 */
async function tooBigForOnePatch(master: SshMaster, repo: string, scratch: string): Promise<void> {
  const gitDir = path.join(scratch, '.git');
  // Random bytes: deflate cannot shrink them, so the patch's base85 holds more than the file.
  writeFileSync(path.join(scratch, 'dump.bin'), randomBytes(FAST_UPDATE_MAX_PATCH_BYTES));
  git(scratch, ['add', '-A']);
  git(scratch, ['commit', '-q', '-m', 'a dump']);
  const withDump = git(scratch, ['rev-parse', 'HEAD']);
  execFileSync('git', ['push', '-q', master.repositoryUrl('bar', 'foo'), 'main'], { cwd: scratch, env: master.gitEnv() });
  assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), withDump);
  git(scratch, ['rm', '-q', 'dump.bin']);
  git(scratch, ['commit', '-q', '-m', 'no dump']);
  const without = git(scratch, ['rev-parse', 'HEAD']);
  assert.ok((await packBetween(gitDir, withDump, without))!.length < 1024, 'the pack is tiny');
  assert.ok((await changedContentBytes(gitDir, withDump, without))! >= FAST_UPDATE_MAX_PATCH_BYTES);
  assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', gitDir, withDump, without), false, 'the daemon weighs it and does not ask');
  let packed = false;
  const pack = async (): Promise<Buffer | undefined> => ((packed = true), packBetween(gitDir, withDump, without));
  assert.equal(await master.applyUpdate!('bar', 'foo', { from: withDump, to: without, pack }), false, 'asked anyway: refused');
  assert.equal(packed, true);
  assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), withDump, 'the branch did not move');
  assert.equal(statSync(path.join(repo, 'dump.bin')).size, FAST_UPDATE_MAX_PATCH_BYTES, 'the working copy did not move');
  assert.equal(git(repo, ['status', '--porcelain']), '');
  assert.deepEqual(readdirSync(path.join(repo, '.git')).filter((n) => n.startsWith('pacha-')), [], 'no patch left behind');
  assert.deepEqual(readdirSync(repo).filter((n) => /^core/.test(n)), [], 'no core file from the signal');
  // git push does it the usual way; and the next small edit goes in one round trip again.
  execFileSync('git', ['push', '-q', master.repositoryUrl('bar', 'foo'), 'main'], { cwd: scratch, env: master.gitEnv() });
  assert.equal(existsSync(path.join(repo, 'dump.bin')), false);
  const small = secondCommit(scratch, 'after');
  assert.equal(await pushInOneRoundTrip(master, 'bar', 'foo', gitDir, without, small), true);
  assert.equal(readFileSync(path.join(repo, 'a.conf'), 'utf8'), 'a = after\n');
}

test('a change too big for one patch (a big file removed): not asked; asked anyway, refused at the limit, nothing moves', async () => {
  const { master, scratch, repo } = await setUp();
  try {
    await tooBigForOnePatch(master, repo, scratch);
  } finally {
    await master.close();
  }
});

test('a change too big for one patch through the gate: the same, and its log says why', async () => {
  const { world, master, scratch, repo } = await setUpGated();
  try {
    await tooBigForOnePatch(master, repo, scratch);
    assert.match(readFileSync(path.join(world.dir, 'serve.log'), 'utf8'), /apply-update foo .* status 97/);
  } finally {
    await master.close();
    await world.sshd!.stop();
  }
});

/**
 * Something untracked on the master in the way of a path the update adds (a symlink or a file
 * where the update needs a directory, a directory holding an admin's file where it puts a
 * file): updateInstead's read-tree refuses these and changes nothing. `git apply --index`
 * checks leading symlinks against the index only, so it wrote through an untracked symlink
 * (outside the working copy, and answered 0), and it finds a file or a directory in the way
 * only while writing, after it had removed and rewritten other paths (answered 95 with the
 * working copy half updated and the branch put back). Each must answer false and change nothing.
 */
async function untrackedInTheWay(master: SshMaster, repo: string, scratch: string, first: string): Promise<void> {
  const outside = tempDir('pacha-outside-');
  const push = (from: string, to: string) => pushInOneRoundTrip(master, 'bar', 'foo', path.join(scratch, '.git'), from, to);
  const commit = (edit: () => void, tag: string): string => {
    edit();
    git(scratch, ['add', '-A']);
    git(scratch, ['commit', '-q', '-m', tag]);
    return git(scratch, ['rev-parse', 'HEAD']);
  };
  const second = commit(() => {
    writeFileSync(path.join(scratch, 'a.conf'), 'a = 2\n');
    rmSync(path.join(scratch, 'gone.conf'));
    mkdirSync(path.join(scratch, 'd'));
    writeFileSync(path.join(scratch, 'd', 'f'), 'in d\n');
    writeFileSync(path.join(scratch, 'x'), 'x is a file\n');
  }, 'd/f and x');
  const unchanged = (what: string): void => {
    assert.equal(git(repo, ['rev-parse', 'refs/heads/main']), first, what);
    assert.equal(readFileSync(path.join(repo, 'a.conf'), 'utf8'), 'a = 1\n', what);
    assert.equal(readFileSync(path.join(repo, 'gone.conf'), 'utf8'), 'bye\n', what);
    assert.equal(git(repo, ['diff', 'HEAD', '--name-status']), '', `${what}: index and tracked files are the branch's`);
  };
  symlinkSync(outside, path.join(repo, 'd'));
  assert.equal(await push(first, second), false, 'an untracked symlink where a directory goes');
  assert.deepEqual(readdirSync(outside), [], 'nothing written through it');
  unchanged('an untracked symlink');
  rmSync(path.join(repo, 'd'));
  writeFileSync(path.join(repo, 'd'), 'an admin put this here\n');
  assert.equal(await push(first, second), false, 'an untracked file where a directory goes');
  unchanged('an untracked file');
  rmSync(path.join(repo, 'd'));
  mkdirSync(path.join(repo, 'x'));
  writeFileSync(path.join(repo, 'x', 'notes'), 'an admin put this here\n');
  assert.equal(await push(first, second), false, 'a directory holding an untracked file where a file goes');
  unchanged('an untracked directory');
  assert.equal(readFileSync(path.join(repo, 'x', 'notes'), 'utf8'), 'an admin put this here\n');
  rmSync(path.join(repo, 'x'), { recursive: true });
  assert.equal(await push(first, second), true, 'nothing in the way: one round trip');
  assert.equal(readFileSync(path.join(repo, 'd', 'f'), 'utf8'), 'in d\n');
  assert.equal(git(repo, ['status', '--porcelain']), '');
}

test('something untracked in the way of a path the update adds: refused, nothing written, nothing moved', async () => {
  const { master, scratch, repo, first } = await setUp();
  try {
    await untrackedInTheWay(master, repo, scratch, first);
  } finally {
    await master.close();
  }
});

test('something untracked in the way through the gate: the same', async () => {
  const { world, master, scratch, repo, first } = await setUpGated();
  try {
    await untrackedInTheWay(master, repo, scratch, first);
    assert.equal(readFileSync(path.join(world.dir, 'serve.log'), 'utf8').match(/apply-update foo .* status 98/g)?.length, 3);
  } finally {
    await master.close();
    await world.sshd!.stop();
  }
});
