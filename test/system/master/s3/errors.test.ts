// An S3 master on a bad day, each failure with its exit code and a message naming the bucket
// and key: no bucket (2), no credentials (2), a wrong region (2), access denied (2, see
// iam.test.ts), S3 not answering (retried with backoff until pacha.s3.timeout, then 3).
// Throttling (SlowDown, 503) and a wrong region cannot be provoked from moto (it serves a
// bucket of any region to a client of any region): their classification is checked on the
// SDK's error shapes; the retry path is the same as for a refused connection.
// Checked against moto 5.2.1: a bucket created with LocationConstraint eu-west-1, then read,
// headed, listed and written by a us-east-1 client: all 200, no 301 PermanentRedirect, no
// AuthorizationHeaderMalformed (moto/s3/responses.py checks the region only in CreateBucket,
// IllegalLocationConstraintException, which pacha never calls; moto/iam/access_control.py
// verifies a signature with the region the client's own credential scope names).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { s3Error, s3FailureKind } from '../../../../src/master/s3/errors.js';
import { freePort } from '../../../helpers/sshd.js';
import { startMotoS3 } from '../../../helpers/moto-s3.js';
import { makeS3World } from '../../../helpers/s3-world.js';

const s3 = await startMotoS3();

test('a bucket that does not exist: exit 2, naming the bucket and what to do', async () => {
  const world = makeS3World(s3);
  world.writeConfig(['pacha.host = s3://no-such-bucket/hosts']);
  const r = await world.pacha(['rebuild', 'bar', '--yes']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /S3 bucket no-such-bucket does not exist .*s3:\/\/no-such-bucket\/hosts\/bar\//);
  assert.match(r.stderr, /aws s3 mb s3:\/\/no-such-bucket/);
});

test('no credentials anywhere: exit 2, saying where the SDK looks', async () => {
  const world = makeS3World(s3);
  const r = await world.pacha(['rebuild', 'bar', '--yes'], {
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_CONFIG_FILE: '/nonexistent/config',
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /no usable AWS credentials for s3:\/\/fleet\/hosts\/bar\//);
  assert.match(r.stderr, /instance profile/);
});

test('a wrong secret key is never retried as if S3 were busy', async () => {
  const world = makeS3World(s3, { credentials: { accessKeyId: 'test', secretAccessKey: 'wrong' } });
  const r = await world.pacha(['rebuild', 'bar', '--yes']);
  // moto accepts any key without IAM: this proves only that the run does not hang or retry.
  assert.ok(r.code === 1 || r.code === 2, `${r.code} ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /retry/);
});

test('S3 not answering: retried with backoff until pacha.s3.timeout, then exit 3; the commits stay local', async () => {
  const world = makeS3World(s3);
  const dir = path.join(world.root, 'etc/app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a.conf'), 'a\n');
  const port = await freePort();
  const started = performance.now();
  const r = await world.pacha(['watch', dir], { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` });
  const seconds = (performance.now() - started) / 1000;
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /S3 did not answer s3:\/\/fleet\/hosts\/bar\/app\/pointer\.json/);
  assert.ok(seconds >= 4, `gave up after ${seconds.toFixed(1)} s, before pacha.s3.timeout (5 s)`);
  // Once S3 answers again, the same commits go up.
  const again = await world.pacha(['push']);
  assert.equal(again.code, 0, again.stderr);
  assert.ok((await s3.keys('hosts/bar/app/')).includes('hosts/bar/app/pointer.json'));
});

test('throttling and server errors are transient (exit 3 after retries); denials and a missing bucket are not', () => {
  const shaped = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  assert.equal(s3FailureKind(shaped('SlowDown', 503)), 'transient');
  assert.equal(s3FailureKind(shaped('ServiceUnavailable', 503)), 'transient');
  assert.equal(s3FailureKind(shaped('InternalError', 500)), 'transient');
  assert.equal(s3FailureKind(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })), 'transient');
  assert.equal(s3FailureKind(shaped('AccessDenied', 403)), 'denied');
  assert.equal(s3FailureKind(shaped('NoSuchBucket', 404)), 'no-bucket');
  assert.equal(s3FailureKind(shaped('PermanentRedirect', 301)), 'region');
  assert.equal(s3FailureKind(shaped('PreconditionFailed', 412)), 'precondition');
  const place = { bucket: 'fleet', key: 'hosts/bar/app/pointer.json', region: 'us-east-1', action: 'reading' };
  assert.equal(s3Error(shaped('SlowDown', 503), place).exitCode, 3);
  assert.equal(s3Error(shaped('AccessDenied', 403), place).exitCode, 2);
  assert.match(s3Error(shaped('AccessDenied', 403), place).message, /s3:\/\/fleet\/hosts\/bar\/app\/pointer\.json/);
  const redirect = Object.assign(shaped('PermanentRedirect', 301), { $response: { headers: { 'x-amz-bucket-region': 'eu-west-1' } } });
  assert.match(s3Error(redirect, place).hint ?? '', /pacha\.s3\.region = eu-west-1/);
});
