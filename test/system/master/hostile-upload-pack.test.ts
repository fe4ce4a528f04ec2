// A hostile SSH master answering pacha's own fetch (Master.copyRefs over the ssh2 connection,
// master/upload-pack-fetch.ts): a real sshd whose key is forced to a script that answers
// `git-upload-pack` with bytes the test wrote. Whatever it sends, the copy fails with the
// master named and leaves no ref behind; a silent master is given up on as a dropped
// connection (retried by boot), not waited for forever.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { connectSsh } from '../../../src/master/ssh-connect.js';
import { SshFs } from '../../../src/master/ssh-fs.js';
import { isDroppedConnection } from '../../../src/master/transient.js';
import { FLUSH_PKT, encodePkt } from '../../../src/master/pkt-line.js';
import { fetchByUploadPack } from '../../../src/master/upload-pack-fetch.js';
import { loadHostKeySources } from '../../../src/master/host-key-sources.js';
import { masterOn } from '../../helpers/dropping-sshd.js';
import { startSshd, type Sshd } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeWorld, type World } from '../../helpers/world.js';

let world: World;
let hostile: Sshd;
let dir: string;
const answer = (): string => path.join(dir, 'answer');

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();
}

/** A repository with one commit holding `content`; its commit and a pack of everything in it. */
function repository(content: string): { repo: string; commit: string; pack: Buffer } {
  const repo = path.join(tempDir(), 'r');
  mkdirSync(repo);
  git(repo, 'init', '-q');
  writeFileSync(path.join(repo, 'f'), content);
  git(repo, 'add', 'f');
  git(repo, 'commit', '-q', '-m', 'c');
  const commit = git(repo, 'rev-parse', 'HEAD');
  return { repo, commit, pack: packOf(repo, `${commit}\n`) };
}

/** `git pack-objects --stdout` of what `input` names (`--revs`: commits and what they reach). */
function packOf(repo: string, input: string, revs = true): Buffer {
  return execFileSync('git', ['-C', repo, 'pack-objects', '--stdout', ...(revs ? ['--revs'] : [])], { input, stdio: ['pipe', 'pipe', 'ignore'] });
}

function advertisement(refs: Array<[string, string]>): Buffer {
  return Buffer.concat([...refs.map(([sha, name], i) => encodePkt(i === 0 ? `${sha} ${name}\0side-band-64k ofs-delta shallow no-progress\n` : `${sha} ${name}\n`)), FLUSH_PKT]);
}

/** The pack on side band 1, in pkt-lines git's size. */
function sideBand(pack: Buffer): Buffer {
  const pkts: Buffer[] = [];
  for (let at = 0; at < pack.length; at += 65515) pkts.push(encodePkt(Buffer.concat([Buffer.from([1]), pack.subarray(at, at + 65515)])));
  return Buffer.concat([...pkts, FLUSH_PKT]);
}

before(async () => {
  world = await makeWorld({ ssh: true });
  dir = tempDir();
  hostile = await startSshd();
  const script = path.join(dir, 'serve.sh');
  // git-upload-pack: the bytes in `answer`, whatever was asked; anything else (pacha-gate hello) as a plain account would.
  writeFileSync(script, `#!/bin/sh\ncase "$SSH_ORIGINAL_COMMAND" in\n  git-upload-pack*) cat ${answer()}; exec sleep "$(cat ${answer()}.sleep 2>/dev/null || echo 0)" ;;\n  *) exec sh -c "$SSH_ORIGINAL_COMMAND" ;;\nesac\n`);
  chmodSync(script, 0o755);
  writeFileSync(path.join(hostile.dir, 'authorized_keys'), `command="${script}" ${readFileSync(`${world.sshd!.clientKey}.pub`, 'utf8')}`);
});

after(async () => {
  await hostile?.stop();
  await world?.sshd?.stop();
});

/** The copy as stage and the fence read make it; its failure, and the refs it left. */
async function copyFails(bytes: Buffer): Promise<{ error: Error; refs: string }> {
  writeFileSync(answer(), bytes);
  const { master } = await masterOn(world, hostile);
  const gitDir = path.join(tempDir(), 'copy.git');
  execFileSync('git', ['init', '-q', '--bare', gitDir]);
  try {
    const error = await master.copyRefs!('bar', 'app', gitDir, (ref) => ref).then(
      () => assert.fail('the copy succeeded'),
      (e: unknown) => e as Error,
    );
    return { error, refs: execFileSync('git', ['--git-dir', gitDir, 'for-each-ref'], { encoding: 'utf8' }) };
  } finally {
    await master.close();
  }
}

test('a pack that lacks the commit its ref names: refused by the connectivity check, no ref set', async () => {
  const one = repository('one');
  const other = repository('other');
  const { error, refs } = await copyFails(Buffer.concat([advertisement([[one.commit, 'refs/heads/master']]), encodePkt('NAK\n'), sideBand(other.pack)]));
  assert.match(error.message, /ssh:\/\/.*\/bar\/app: the master did not send every object its refs need/);
  assert.equal(refs, '');
});

test('a pack holding the commit but not its tree: refused by the link check of index-pack, no ref set', async () => {
  const one = repository('one');
  const commitOnly = packOf(one.repo, `${one.commit}\n`, false);
  const { error, refs } = await copyFails(Buffer.concat([advertisement([[one.commit, 'refs/heads/master']]), encodePkt('NAK\n'), sideBand(commitOnly)]));
  assert.match(error.message, /ssh:\/\/.*\/bar\/app: the master did not send every object its refs need \(did not receive expected object [0-9a-f]{40}\)/);
  assert.equal(refs, '');
});

test('a pack that builds on objects already here (not self-contained): the walk of git checks it, and the ref is set', async () => {
  const one = repository('one');
  writeFileSync(path.join(one.repo, 'g'), 'two');
  git(one.repo, 'add', 'g');
  git(one.repo, 'commit', '-q', '-m', 'd');
  const second = git(one.repo, 'rev-parse', 'HEAD');
  writeFileSync(answer(), Buffer.concat([advertisement([[second, 'refs/heads/master']]), encodePkt('NAK\n'), sideBand(packOf(one.repo, `${second}\n^${one.commit}\n`))]));
  const { master } = await masterOn(world, hostile);
  const gitDir = path.join(tempDir(), 'copy.git');
  execFileSync('git', ['init', '-q', '--bare', gitDir]);
  execFileSync('git', ['--git-dir', gitDir, 'index-pack', '--stdin'], { input: one.pack, stdio: ['pipe', 'ignore', 'ignore'] }); // the first commit's objects, no ref
  try {
    assert.deepEqual(await master.copyRefs!('bar', 'app', gitDir, (ref) => ref), { 'refs/heads/master': second });
    assert.equal(execFileSync('git', ['--git-dir', gitDir, 'cat-file', '-p', `${second}:g`], { encoding: 'utf8' }), 'two');
  } finally {
    await master.close();
  }
});

test('bytes that are not a pack: refused by git index-pack, no ref set', async () => {
  const one = repository('one');
  const { error, refs } = await copyFails(Buffer.concat([advertisement([[one.commit, 'refs/heads/master']]), encodePkt('NAK\n'), sideBand(Buffer.from('PACK\0\0\0\x02\0\0\0\x05garbage'))]));
  assert.match(error.message, /bar\/app: git index-pack refused the pack/);
  assert.equal(refs, '');
});

test('a ref name that would say more to update-ref, and an ERR line: refused before anything is asked', async () => {
  const one = repository('one');
  const injected = await copyFails(advertisement([[one.commit, `refs/heads/x\nupdate refs/heads/evil ${one.commit}`]]));
  assert.match(injected.error.message, /advertised a ref pacha will not set/);
  assert.equal(injected.refs, '');
  const err = await copyFails(encodePkt('ERR no such repository, or no access\n'));
  assert.match(err.error.message, /the master refused: no such repository, or no access/);
  assert.ok(!isDroppedConnection(err.error), 'a refusal is not retried');
});

test('a pack cut short (the master went mid-transfer): an error naming it, no ref set; a full answer afterwards copies the ref', async () => {
  const one = repository('one');
  const full = Buffer.concat([advertisement([[one.commit, 'refs/heads/master']]), encodePkt('NAK\n'), sideBand(one.pack)]);
  const cut = await copyFails(full.subarray(0, full.length - 40));
  assert.match(cut.error.message, /bar\/app: git-upload-pack exited 0 (before the pack ended|in the middle of a pkt-line)/);
  assert.equal(cut.refs, '');
  // The same bytes whole: the copy works, so the failures above are the hostile bytes, not the set-up.
  writeFileSync(answer(), full);
  const { master } = await masterOn(world, hostile);
  const gitDir = path.join(tempDir(), 'copy.git');
  execFileSync('git', ['init', '-q', '--bare', gitDir]);
  try {
    assert.deepEqual(await master.copyRefs!('bar', 'app', gitDir, (ref) => ref), { 'refs/heads/master': one.commit });
    assert.equal(execFileSync('git', ['--git-dir', gitDir, 'cat-file', '-p', `${one.commit}:f`], { encoding: 'utf8' }), 'one');
  } finally {
    await master.close();
  }
});

test('a master that falls silent mid-fetch is given up on after the silence limit, as a dropped connection', async () => {
  const one = repository('one');
  const full = Buffer.concat([advertisement([[one.commit, 'refs/heads/master']]), encodePkt('NAK\n'), sideBand(one.pack)]);
  writeFileSync(answer(), full.subarray(0, full.length - 40));
  writeFileSync(`${answer()}.sleep`, '30');
  const client = await connectSsh({
    host: '127.0.0.1',
    port: hostile.port,
    user: hostile.user,
    identity: { keyFile: world.sshd!.clientKey, explicit: true },
    hostKeySources: await loadHostKeySources({ kind: 'file', path: hostile.knownHosts }),
    hostKeyPlaces: hostile.knownHosts,
    home: tempDir(),
  });
  const gitDir = path.join(tempDir(), 'copy.git');
  execFileSync('git', ['init', '-q', '--bare', gitDir]);
  const started = Date.now();
  try {
    const channel = await new SshFs(client, 'hostile').channel("git-upload-pack '/x/bar/app'");
    const error = await fetchByUploadPack({ channel, label: 'hostile', gitDir, pick: (ref) => ref, silenceMs: 1500 }).then(
      () => assert.fail('the fetch succeeded'),
      (e: unknown) => e as Error,
    );
    assert.match(error.message, /did not answer within 1\.5 s/);
    assert.ok(isDroppedConnection(error), 'retried by boot as a dropped connection');
    assert.ok(Date.now() - started < 15_000, 'not waited for until the master ended it');
  } finally {
    client.end();
  }
});
