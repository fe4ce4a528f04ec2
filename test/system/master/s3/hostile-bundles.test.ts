// A hostile or broken bucket against rebuild and boot, which copy a repository's refs from
// the bundles in pacha's own process (master/s3/copy-refs.ts) instead of git's remote
// helper: a pointer naming a commit no bundle holds, a bundle that lacks objects its commit
// needs, a bundle that is not one. Each run fails (never exit 0), names the bucket, and
// leaves the rebuilt path untouched.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { runPacha } from '../../../helpers/cli.js';
import { startMotoS3 } from '../../../helpers/moto-s3.js';
import { makeS3World, PREFIX, type S3World } from '../../../helpers/s3-world.js';
import { tempDir } from '../../../helpers/tmp.js';

const s3 = await startMotoS3();
let world: S3World;
let app: string;
let n = 0;

interface PointerJson {
  refs: Record<string, string>;
  chain: Array<{ key: string; size: number; tips: string[] }>;
}

const repoKey = (): string => `${PREFIX}/${world.host}/app`;
const readPointer = async (): Promise<PointerJson> => JSON.parse(await s3.text(`${repoKey()}/pointer.json`)) as PointerJson;
const put = (key: string, body: string | Buffer): Promise<unknown> => s3.admin.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
const getBytes = async (key: string): Promise<Buffer> => Buffer.from(await (await s3.admin.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body!.transformToByteArray());
const git = (gitDir: string, args: string[], input?: Buffer): Buffer => execFileSync('git', args, { env: { ...process.env, GIT_DIR: gitDir }, input });

// Each test has its own host: bar1, bar2 … with /etc/app pushed in two commits (two bundles).
beforeEach(async () => {
  world = makeS3World(s3, { host: `bar${++n}` });
  app = path.join(world.root, 'etc/app');
  mkdirSync(app, { recursive: true });
  writeFileSync(path.join(app, 'a.conf'), 'a = 1\n');
  assert.equal((await world.pacha(['watch', app])).code, 0);
  writeFileSync(path.join(app, 'b.conf'), 'b = 2\n');
  const pushed = await world.pacha(['--daemon-run-once']);
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.equal((await readPointer()).chain.length, 2);
  rmSync(world.root, { recursive: true, force: true });
  rmSync(world.stateDir, { recursive: true, force: true });
});

async function rebuildFails(pattern: RegExp): Promise<void> {
  const r = await world.pacha(['rebuild', world.host, '--yes']);
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, pattern);
  assert.equal(existsSync(app), false, 'nothing is placed');
}

test('a pointer naming a commit no bundle holds: the rebuild fails, names the bucket, places nothing', async () => {
  const pointer = await readPointer();
  pointer.refs['refs/heads/main'] = 'f'.repeat(40);
  await put(`${repoKey()}/pointer.json`, JSON.stringify(pointer));
  await rebuildFails(/s3:\/\/fleet\/hosts\/bar\d+\/app\/: the bundles do not hold every object/);
});

test("a bundle that carries the pointer's commit but not every object it needs: refused before any ref is set", async () => {
  const pointer = await readPointer();
  const head = pointer.refs['refs/heads/main']!;
  // Every object, from the bucket's own bundles, in a scratch repository.
  const scratch = path.join(tempDir('pacha-hostile-'), 'all.git');
  execFileSync('git', ['init', '-q', '--bare', scratch]);
  for (const link of pointer.chain) {
    const file = path.join(path.dirname(scratch), 'b.bundle');
    writeFileSync(file, await getBytes(`${repoKey()}/${link.key}`));
    git(scratch, ['bundle', 'unbundle', file]);
  }
  const parent = git(scratch, ['rev-parse', `${head}^`]).toString().trim();
  const tree = git(scratch, ['rev-parse', `${head}^{tree}`]).toString().trim();
  // The second bundle rewritten: the head commit and its tree, without the blobs it added;
  // its header names only the parent (already complete), so git's own unbundle check passes.
  const pack = git(scratch, ['pack-objects', '--stdout', '-q'], Buffer.from(`${head}\n${tree}\n`));
  const bundle = Buffer.concat([Buffer.from(`# v2 git bundle\n-${parent} parent\n${parent} refs/heads/main\n\n`), pack]);
  await put(`${repoKey()}/${pointer.chain[1]!.key}`, bundle);
  await rebuildFails(/the bundles do not hold every object the pointer's refs need/);
});

test('a bundle that is not a git bundle: the rebuild fails and places nothing', async () => {
  const pointer = await readPointer();
  await put(`${repoKey()}/${pointer.chain[0]!.key}`, 'not a bundle\n');
  await rebuildFails(/cannot clone app of bar\d+ from s3:\/\/fleet\/hosts/);
});

test("boot on a hostile bucket: the fence read (from the commits: no stamps) refuses a pointer its bundles cannot satisfy; nothing placed", async () => {
  const pointer = await readPointer() as PointerJson & { stamps?: unknown };
  pointer.refs['refs/heads/main'] = 'e'.repeat(40);
  delete pointer.stamps;
  await put(`${repoKey()}/pointer.json`, JSON.stringify(pointer));
  const dir = tempDir('pacha-s3-hostile-boot-');
  mkdirSync(world.root, { recursive: true });
  const image = path.join(dir, 'image.conf');
  writeFileSync(image, '# nothing host-specific\n');
  const userData = path.join(dir, 'user-data');
  writeFileSync(userData, ['#cloud-config', 'pacha:', `  hostname: ${world.host}`, '  config: |', `    pacha.host = s3://${s3.bucket}/${PREFIX}`, `    pacha.state.path = ${world.stateDir}`, '    pacha.boot.timeout = 5', ''].join('\n'));
  const r = await runPacha(['--root', world.root, '-c', image, 'boot', '--no-watch', '--user-data', userData, '--instance-data', path.join(dir, 'none')], {
    env: { ...s3.env(), PACHA_STATE_PATH: world.stateDir },
  });
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr + r.stdout, /could not read who holds bar\d+ on s3:\/\/fleet\/hosts: s3:\/\/fleet\/hosts\/bar\d+\/app\/: the bundles do not hold every object/);
  assert.equal(existsSync(path.join(world.root, app)), false);
  assert.equal(existsSync(app), false);
});
