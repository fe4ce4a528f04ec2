// Isolation by IAM, for real: moto_server enforcing IAM (INITIAL_NO_AUTH_ACTION_COUNT), two
// users holding the README's per-host policy. Host a's credentials run a's whole crash story
// and are refused on b's prefix for reading, writing and uploading hooks, and on their own hooks.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { hostPolicy, iamUser, startMotoS3 } from '../../helpers/moto-s3.js';
import { makeS3World, PREFIX } from '../../helpers/s3-world.js';

const s3 = await startMotoS3({ iam: true });
const keyA = await iamUser(s3.endpoint, 'host-a', hostPolicy(s3.bucket, PREFIX, 'a'));
const keyB = await iamUser(s3.endpoint, 'host-b', hostPolicy(s3.bucket, PREFIX, 'b'));
const a = makeS3World(s3, { host: 'a', credentials: keyA });
const b = makeS3World(s3, { host: 'b', credentials: keyB });

const put = (credentials: typeof keyA, key: string): Promise<unknown> =>
  new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials }).send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: '#!/bin/sh\nexit 0\n' }));

test('b pushes its own path with its own credentials', async () => {
  const dir = path.join(b.root, 'etc/app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'b.conf'), 'b\n');
  const r = await b.pacha(['watch', dir]);
  assert.equal(r.code, 0, r.stderr);
});

test("a's credentials run a's crash story: watch, push, die, rebuild with the admin's hooks", async () => {
  const dir = path.join(a.root, 'etc/app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a.conf'), 'a = 1\n');
  assert.equal((await a.pacha(['watch', dir])).code, 0);
  writeFileSync(path.join(dir, 'a.conf'), 'a = 2\n');
  const pushed = await a.pacha(['push']);
  assert.equal(pushed.code, 0, pushed.stderr);
  await s3.putHook(`${PREFIX}/a/pacha_post/10-mark`, `#!/bin/sh\ntouch ${a.dir}/post-ran\n`);
  rmSync(dir, { recursive: true, force: true });
  rmSync(a.stateDir, { recursive: true, force: true });
  const r = await a.pacha(['rebuild', 'a', '--yes']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path.join(dir, 'a.conf'), 'utf8'), 'a = 2\n');
  assert.ok(existsSync(path.join(a.dir, 'post-ran')));
});

test("a's credentials cannot read b's prefix: rebuild b is refused with exit 2, naming the key", async () => {
  const r = await a.pacha(['rebuild', 'b', '--yes']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /access denied to s3:\/\/fleet\/hosts\/b\//);
});

test("a's credentials cannot write b's prefix: a push as host b is refused and b's pointer is untouched", async () => {
  const before = await s3.text(`${PREFIX}/b/app/pointer.json`);
  const c = makeS3World(s3, { host: 'b', credentials: keyA });
  const dir = path.join(c.root, 'etc/app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'evil.conf'), 'evil\n');
  const r = await c.pacha(['watch', dir]);
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, /denied|AccessDenied/i);
  assert.equal(await s3.text(`${PREFIX}/b/app/pointer.json`), before);
  assert.deepEqual((await s3.keys(`${PREFIX}/b/`)).filter((k) => k.includes('evil')), []);
});

test("a's credentials cannot upload hooks, neither b's nor its own", async () => {
  for (const key of [`${PREFIX}/b/pacha_pre/00-evil`, `${PREFIX}/a/pacha_pre/00-evil`, `${PREFIX}/a/pacha_post/00-evil`]) {
    await assert.rejects(put(keyA, key), (e: Error) => e.name === 'AccessDenied', key);
  }
  assert.deepEqual(await s3.keys(`${PREFIX}/a/pacha_pre/`), []);
  // The admin can (the same call, admin credentials): the refusal above is IAM's, not the call's.
  await s3.putHook(`${PREFIX}/a/pacha_pre/00-admin`, '#!/bin/sh\nexit 0\n');
});
