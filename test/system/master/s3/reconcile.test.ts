// `pacha reconcile` on an S3 master after a real divergence: two writers on one path (this
// host's pacha, and another clone pushing through pacha's remote helper). Both ways; every
// commit of both sides still reachable from the bucket afterwards; the diverged ref removed;
// pushes resume.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { startMotoS3 } from '../../../helpers/moto-s3.js';
import { makeS3World, PREFIX, type S3World } from '../../../helpers/s3-world.js';
import { tempDir } from '../../../helpers/tmp.js';

const s3 = await startMotoS3();
let world: S3World;
let dir: string;
let gitDir: string;
let other: string;
let url: string;

const env = (): NodeJS.ProcessEnv => ({ ...process.env, ...s3.env(), PATH: `${path.join(world.stateDir, 's3', 'bin')}:${process.env.PATH}`, PACHA_S3_REGION: 'us-east-1' });
const git = (args: string[], cwd?: string): string =>
  execFileSync('git', [...(cwd ? ['-C', cwd] : []), '-c', 'user.name=other', '-c', 'user.email=other@writer', ...args], { encoding: 'utf8', env: env() }).trim();
const commits = (gd: string, ref = 'main'): string[] => git(['--git-dir', gd, 'rev-list', ref]).split('\n').filter(Boolean);

/** A mirror of the bucket's repository: every ref the pointer names, and every commit they reach. */
function mirror(): { dir: string; refs: string[]; commits: Set<string> } {
  const m = path.join(tempDir('pacha-s3-reconcile-'), 'm.git');
  git(['clone', '--mirror', '-q', url, m]);
  const refs = git(['--git-dir', m, 'for-each-ref', '--format=%(refname)']).split('\n').filter(Boolean);
  return { dir: m, refs, commits: new Set(git(['--git-dir', m, 'rev-list', '--all']).split('\n').filter(Boolean)) };
}

/**
 * The other writer commits on the bucket's main (an edit of a tracked file, as an admin would
 * make: a new file would need its entry in .pacha/metadata.json); this host commits too;
 * `pacha push` finds them diverged.
 */
async function diverge(otherContent: string, localFile: string): Promise<{ master: string[]; local: string[] }> {
  git(['pull', '-q', '--ff-only', 'origin', 'main'], other);
  writeFileSync(path.join(other, 'a.conf'), otherContent);
  git(['add', '-A'], other);
  git(['commit', '-q', '-m', 'the other writer'], other);
  git(['push', '-q', 'origin', 'main'], other);
  writeFileSync(path.join(dir, localFile), `${localFile} from this host\n`);
  const pushed = await world.pacha(['push']);
  assert.equal(pushed.code, 4, pushed.stderr);
  assert.match(pushed.stderr, /diverged.*pacha reconcile .*--keep-local.*--keep-master/s);
  assert.equal(mirror().refs.filter((r) => r.startsWith('refs/pacha/diverged/')).length, 1);
  return { master: commits(mirror().dir), local: commits(gitDir) };
}

before(async () => {
  world = makeS3World(s3);
  dir = path.join(world.root, 'etc', 'app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a.conf'), 'a = 0\n');
  const watched = await world.pacha(['watch', dir]);
  assert.equal(watched.code, 0, watched.stderr);
  gitDir = path.join(world.stateDir, 'repos', 'app.git');
  url = `pacha-s3::s3://${s3.bucket}/${PREFIX}/${world.host}/app`;
  other = path.join(tempDir('pacha-s3-other-'), 'app');
  git(['clone', '-q', url, other]);
});

describe('pacha reconcile on S3', { concurrency: false }, () => {
  test("--keep-local: this host's files on top of the bucket's history; every commit of both reachable; pushes resume", async () => {
    const before = await diverge('a = other 1\n', 'local.conf');
    const r = await world.pacha(['--json', 'reconcile', dir, '--keep-local']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { relation: string; head: string; push: { status: string }; removedRefs: string[] };
    assert.equal(doc.relation, 'diverged');
    assert.equal(doc.push.status, 'pushed');
    assert.equal(doc.removedRefs.length, 1);
    const m = mirror();
    assert.deepEqual(m.refs.filter((ref) => ref.startsWith('refs/pacha/diverged/')), [], 'the diverged ref is gone');
    assert.equal(git(['--git-dir', m.dir, 'rev-parse', 'refs/heads/main']), doc.head);
    assert.equal(git(['--git-dir', gitDir, 'rev-parse', 'main']), doc.head, 'both sides agree');
    for (const sha of [...before.master, ...before.local]) assert.ok(m.commits.has(sha), `commit ${sha} lost`);
    assert.equal(git(['--git-dir', m.dir, 'show', 'main:local.conf']), 'local.conf from this host');
    assert.equal(git(['--git-dir', m.dir, 'show', `${before.master[0]}:a.conf`]), 'a = other 1');
    writeFileSync(path.join(dir, 'a.conf'), 'a = 2\n');
    const pushed = await world.pacha(['push']);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(git(['--git-dir', mirror().dir, 'show', 'main:a.conf']), 'a = 2');
  });

  test("--keep-master: this host adopts the bucket's history; its own commits kept (a bundle here, a ref in the bucket)", async () => {
    const before = await diverge('a = other 2\n', 'local2.conf');
    const r = await world.pacha(['--json', 'reconcile', dir, '--keep-master']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { head: string; bundle: string; discardedRef: string; backupDir: string };
    assert.equal(doc.head, before.master[0]);
    assert.equal(git(['--git-dir', gitDir, 'rev-parse', 'main']), before.master[0]);
    assert.equal(readFileSync(path.join(dir, 'a.conf'), 'utf8'), 'a = other 2\n', "the bucket's file here");
    assert.ok(!existsSync(path.join(dir, 'local2.conf')), 'what the bucket lacks is moved aside');
    assert.equal(readFileSync(path.join(doc.backupDir, dir, 'local2.conf'), 'utf8'), 'local2.conf from this host\n');
    const m = mirror();
    assert.ok(m.refs.includes(doc.discardedRef), `${doc.discardedRef} in ${m.refs.join(', ')}`);
    for (const sha of [...before.master, ...before.local]) assert.ok(m.commits.has(sha), `commit ${sha} lost`);
    assert.match(git(['bundle', 'list-heads', doc.bundle]), new RegExp(before.local[0]!));
    writeFileSync(path.join(dir, 'a.conf'), 'a = 3\n');
    const pushed = await world.pacha(['push']);
    assert.equal(pushed.code, 0, pushed.stderr);
  });
});
