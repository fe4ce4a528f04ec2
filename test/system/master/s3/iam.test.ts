// Isolation by IAM, for real: moto_server enforcing IAM (INITIAL_NO_AUTH_ACTION_COUNT: only
// the setup runs unauthenticated), two users holding the README's per-host policy. Host a's
// credentials push a's history (watch, edits, the daemon's cycle, a fresh clone of its own
// repository) and are refused on b's prefix for reading and writing, and on every hook prefix
// for uploading.
// moto 5.2.1 rejects the JavaScript SDK's signature of ListObjectsV2 whenever the query holds
// a '/' (prefix or delimiter; getmoto/moto#5948: it re-signs from werkzeug's Request.url, which
// decodes %2F), so what lists (`pacha rebuild`'s description of the host, hooks) is exercised
// without IAM in crash-story.test.ts (README, "IAM: each host its own prefix").
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { hostPolicy, startMotoS3 } from '../../../helpers/moto-s3.js';
import { makeS3World, PREFIX, type S3World } from '../../../helpers/s3-world.js';
import { tempDir } from '../../../helpers/tmp.js';

const s3 = await startMotoS3({ iamUsers: { 'host-a': hostPolicy('fleet', PREFIX, 'a'), 'host-b': hostPolicy('fleet', PREFIX, 'b') } });
const keyA = s3.users['host-a']!;
const keyB = s3.users['host-b']!;
const a = makeS3World(s3, { host: 'a', credentials: keyA });
const b = makeS3World(s3, { host: 'b', credentials: keyB });
const run = promisify(execFile);

const client = (credentials: typeof keyA): S3Client => new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials });
const put = (credentials: typeof keyA, key: string): Promise<unknown> => client(credentials).send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: '#!/bin/sh\nexit 0\n' }));

async function track(world: S3World, file: string, content: string): Promise<string> {
  const dir = path.join(world.root, 'etc/app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, file), content);
  return dir;
}

/** git with the helper pacha installed for `world`, and `credentials`. */
const gitAs = (world: S3World, credentials: typeof keyA, args: string[]) =>
  run('git', args, { env: { ...process.env, ...s3.env(credentials), PATH: `${path.join(world.stateDir, 's3', 'bin')}:${process.env.PATH}` } });

test('IAM is enforced: with no valid key, moto refuses', async () => {
  await assert.rejects(client({ accessKeyId: 'AKIANOSUCHKEY0000000', secretAccessKey: 'x' }).send(new GetObjectCommand({ Bucket: s3.bucket, Key: `${PREFIX}/a/x` })), (e: Error) => /InvalidAccessKeyId|AccessDenied|Signature/.test(e.name));
});

test("b and a push their own paths with their own credentials (watch, an edit, the daemon's cycle)", async () => {
  assert.equal((await b.pacha(['watch', await track(b, 'b.conf', 'b\n')])).code, 0);
  const dir = await track(a, 'a.conf', 'a = 1\n');
  const watched = await a.pacha(['watch', dir]);
  assert.equal(watched.code, 0, watched.stderr);
  writeFileSync(path.join(dir, 'a.conf'), 'a = 2\n');
  const cycle = await a.pacha(['--daemon-run-once']);
  assert.equal(cycle.code, 0, cycle.stderr);
  const pointer = JSON.parse(await s3.text(`${PREFIX}/a/app/pointer.json`)) as { chain: unknown[] };
  assert.equal(pointer.chain.length, 2);
  // a's own repository is readable with a's key: a fresh clone has the edit.
  const clone = path.join(tempDir('pacha-iam-'), 'a.git');
  await gitAs(a, keyA, ['clone', '--bare', '-q', `pacha-s3::s3://${s3.bucket}/${PREFIX}/a/app`, clone]);
  assert.equal((await run('git', ['--git-dir', clone, 'show', 'main:a.conf'])).stdout, 'a = 2\n');
});

test("a's credentials cannot read b's repository", async () => {
  const clone = path.join(tempDir('pacha-iam-'), 'b.git');
  await assert.rejects(gitAs(a, keyA, ['clone', '--bare', '-q', `pacha-s3::s3://${s3.bucket}/${PREFIX}/b/app`, clone]), (e: Error) => /ES3DENIED: access denied to s3:\/\/fleet\/hosts\/b\/app\/pointer\.json/.test(e.message));
  await assert.rejects(client(keyA).send(new GetObjectCommand({ Bucket: s3.bucket, Key: `${PREFIX}/b/app/pointer.json` })), (e: Error) => e.name === 'AccessDenied');
});

test("a's credentials cannot write b's prefix: a push as host b is refused (exit 2) and b's pointer is untouched", async () => {
  const before = await s3.text(`${PREFIX}/b/app/pointer.json`);
  const keysBefore = await s3.keys(`${PREFIX}/b/`);
  const c = makeS3World(s3, { host: 'b', credentials: keyA });
  const r = await c.pacha(['watch', await track(c, 'evil.conf', 'evil\n')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /access denied to s3:\/\/fleet\/hosts\/b\/app\//);
  assert.equal(await s3.text(`${PREFIX}/b/app/pointer.json`), before);
  assert.deepEqual(await s3.keys(`${PREFIX}/b/`), keysBefore);
  await assert.rejects(put(keyA, `${PREFIX}/b/app/bundles/x.bundle`), (e: Error) => e.name === 'AccessDenied');
});

test("a's credentials cannot upload hooks, neither b's nor its own; the admin can", async () => {
  for (const key of [`${PREFIX}/b/pacha_pre/00-evil`, `${PREFIX}/a/pacha_pre/00-evil`, `${PREFIX}/a/pacha_post/00-evil`]) {
    await assert.rejects(put(keyA, key), (e: Error) => e.name === 'AccessDenied', key);
  }
  await s3.putHook(`${PREFIX}/a/pacha_pre/00-admin`, '#!/bin/sh\nexit 0\n');
  assert.deepEqual(await s3.keys(`${PREFIX}/a/pacha_pre/`), [`${PREFIX}/a/pacha_pre/00-admin`]);
  // ... and a may read its own hooks, not b's.
  await client(keyA).send(new GetObjectCommand({ Bucket: s3.bucket, Key: `${PREFIX}/a/pacha_pre/00-admin` }));
  await s3.putHook(`${PREFIX}/b/pacha_pre/00-admin`, '#!/bin/sh\nexit 0\n');
  await assert.rejects(client(keyA).send(new GetObjectCommand({ Bucket: s3.bucket, Key: `${PREFIX}/b/pacha_pre/00-admin` })), (e: Error) => e.name === 'AccessDenied');
});
