// The daemon against an S3 master: every change propagates to the bucket as one more bundle
// and a swapped pointer. Compaction: past pacha.s3.compact_after the chain becomes one full
// bundle, every commit (and every side ref) stays reachable, the old bundles go, and a
// rebuild from the bucket alone is exact.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { startDaemon } from '../../daemon/helpers/daemon-process.js';
import { setTimeout as delay } from 'node:timers/promises';
import { exactSnapshot } from '../../../helpers/tree.js';
import { startMotoS3 } from '../../../helpers/moto-s3.js';
import { makeS3World, PREFIX, type S3World } from '../../../helpers/s3-world.js';
import { tempDir } from '../../../helpers/tmp.js';

const s3 = await startMotoS3();
const run = promisify(execFile);

interface PointerView {
  refs: Record<string, string>;
  chain: Array<{ key: string }>;
}
const pointerOf = async (host: string, name: string): Promise<PointerView> => JSON.parse(await s3.text(`${PREFIX}/${host}/${name}/pointer.json`)) as PointerView;

/** A bare clone of every ref, from the bucket alone (git and pacha's helper). */
async function mirror(world: S3World, name: string): Promise<string> {
  const dir = path.join(tempDir('pacha-s3-mirror-'), 'm.git');
  const env = { ...process.env, ...s3.env(), PATH: `${path.join(world.stateDir, 's3', 'bin')}:${process.env.PATH}` };
  await run('git', ['clone', '--mirror', '-q', `pacha-s3::s3://${s3.bucket}/${PREFIX}/${world.host}/${name}`, dir], { env });
  return dir;
}

test('the daemon propagates each change to the bucket', async () => {
  const world = makeS3World(s3, { host: 'd1' });
  const dir = path.join(world.root, 'etc/app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a.conf'), 'a = 0\n');
  world.writeConfig([`pacha.watch = ${dir}`]);
  const daemon = startDaemon(world.config, s3.env());
  await daemon.waitFor(/pushed .*app/, 60_000);
  for (const value of ['1', '2']) {
    writeFileSync(path.join(dir, 'a.conf'), `a = ${value}\n`);
    const deadline = Date.now() + 90_000;
    let arrived = '';
    while (arrived !== `a = ${value}\n`) {
      assert.ok(Date.now() < deadline, `a = ${value} did not reach the bucket in 90 s; last seen: ${arrived}\n${daemon.stderr()}`);
      await delay(1000);
      arrived = execFileSync('git', ['--git-dir', await mirror(world, 'app'), 'show', 'main:a.conf'], { encoding: 'utf8' });
    }
  }
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});

test('compaction past pacha.s3.compact_after: one full bundle, every commit and side ref reachable, old bundles gone, rebuild exact', async () => {
  const world = makeS3World(s3, { host: 'c1' });
  world.writeConfig(['pacha.s3.compact_after = 3']);
  const dir = path.join(world.root, 'etc/app');
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'sub/a.conf'), 'a = 0\n');
  assert.equal((await world.pacha(['watch', dir])).code, 0);
  const seen = new Set<string>();
  for (let i = 1; i <= 6; i++) {
    writeFileSync(path.join(dir, `f${i}.conf`), `${i}\n`);
    const r = await world.pacha(['push']);
    assert.equal(r.code, 0, r.stderr);
    for (const link of (await pointerOf('c1', 'app')).chain) seen.add(link.key);
  }
  const pointer = await pointerOf('c1', 'app');
  assert.ok(pointer.chain.length <= 3, `chain of ${pointer.chain.length} after compaction`);
  // The bundles the pointer no longer names were deleted after the swap.
  const bundles = (await s3.keys(`${PREFIX}/c1/app/bundles/`)).map((k) => k.slice(`${PREFIX}/c1/app/`.length));
  assert.deepEqual(bundles.sort(), pointer.chain.map((l) => l.key).sort());
  assert.ok(seen.size > bundles.length);
  const local = path.join(world.stateDir, 'repos', 'app.git');
  const localCommits = execFileSync('git', ['--git-dir', local, 'rev-list', 'main'], { encoding: 'utf8' }).trim().split('\n');
  const m = await mirror(world, 'app');
  const remoteCommits = execFileSync('git', ['--git-dir', m, 'rev-list', 'main'], { encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(remoteCommits, localCommits);
  execFileSync('git', ['--git-dir', m, 'fsck', '--no-dangling']);
  const before = exactSnapshot(dir);
  rmSync(dir, { recursive: true, force: true });
  rmSync(world.stateDir, { recursive: true, force: true });
  const r = await world.pacha(['rebuild', 'c1', '--yes']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(exactSnapshot(dir), before);
});
