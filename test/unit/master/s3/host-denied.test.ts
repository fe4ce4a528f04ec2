// Under a per-host IAM policy, another host's prefix cannot be listed: rebuilding a host that
// does not exist (or is another role's) says so and what to do, not a bare "access denied".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostNotReadable, s3Error } from '../../../../src/master/s3/errors.js';

const shaped = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const place = { bucket: 'fleet', key: 'hosts/zzz/', region: 'us-east-1', action: 'listing' };

test("a denied listing of a host's prefix names the host, says both possibilities and what to do; still exit 2", () => {
  const e = hostNotReadable('s3://fleet/hosts', 'zzz', 's3://fleet/hosts/zzz/', s3Error(shaped('AccessDenied', 403), place)) as Error & { code: string; exitCode: number; hint: string };
  assert.equal(e.code, 'ES3DENIED');
  assert.equal(e.exitCode, 2);
  assert.match(e.message, /host 'zzz' cannot be read with these credentials \(listing s3:\/\/fleet\/hosts\/zzz\/ was denied\): either no such host exists or it belongs to another role/);
  assert.match(e.hint, /pacha add-host zzz/);
  assert.match(e.hint, /Check the name/);
});

test('any other failure passes unchanged (a throttled listing is no statement about the host)', () => {
  const slow = s3Error(shaped('SlowDown', 503), place);
  assert.equal(hostNotReadable('s3://fleet/hosts', 'zzz', 's3://fleet/hosts/zzz/', slow), slow);
  const plain = new Error('x');
  assert.equal(hostNotReadable('s3://fleet/hosts', 'zzz', 's3://fleet/hosts/zzz/', plain), plain);
});
