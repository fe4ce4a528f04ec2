// `pacha hosts` and `pacha add-host` on an S3 master. A bucket has no accounts: add-host marks
// the host (PREFIX/<host>/.pacha-host, created only if absent) and prints the IAM policy its
// role needs and the settings its instance needs; the policy is the very one iam.test.ts
// attaches to moto's users and proves. SSH key options are refused: IAM grants the access.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostPolicy } from '../../../../src/master/s3/policy.js';
import { startMotoS3 } from '../../../helpers/moto-s3.js';
import { makeS3World, PREFIX } from '../../../helpers/s3-world.js';

const s3 = await startMotoS3();
const admin = makeS3World(s3, { host: 'admin' });

test('add-host marks the host once and prints its role\'s policy and its settings; --json carries both', async () => {
  const r = await admin.pacha(['add-host', 'web1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^created web1 on s3:\/\/fleet\/hosts$/m);
  assert.match(r.stdout, /attach this policy to host web1's IAM role \(its instance profile\): it may list, read and write only s3:\/\/fleet\/hosts\/web1\/, and never write its hooks:/);
  const json = r.stdout.slice(r.stdout.indexOf('{'), r.stdout.lastIndexOf('}') + 1);
  assert.deepEqual(JSON.parse(json), hostPolicy(s3.bucket, PREFIX, 'web1'));
  assert.match(r.stdout, /^ {2}pacha\.host = s3:\/\/fleet\/hosts$/m);
  assert.match(r.stdout, /^ {2}pacha\.hostname = web1$/m);
  assert.match(await s3.text(`${PREFIX}/web1/.pacha-host`), /"host":"web1"/);
  const again = await admin.pacha(['--json', 'add-host', 'web1']);
  assert.equal(again.code, 0, again.stderr);
  const doc = JSON.parse(again.stdout) as { outcome: string; policy: unknown; settings: string[] };
  assert.equal(doc.outcome, 'exists');
  assert.deepEqual(doc.policy, hostPolicy(s3.bucket, PREFIX, 'web1'));
  assert.deepEqual(doc.settings.slice(0, 2), ['pacha.host = s3://fleet/hosts', 'pacha.hostname = web1']);
});

test('the policy names only that host\'s prefix and denies writing its hooks', () => {
  const text = JSON.stringify(hostPolicy('fleet', 'hosts', 'web1'));
  assert.ok(!/hosts\/\*|hosts\/web1[^/]/.test(text), text);
  assert.match(text, /"Effect":"Deny","Action":\["s3:PutObject","s3:DeleteObject"\],"Resource":\["arn:aws:s3:::fleet\/hosts\/web1\/pacha_pre\/\*","arn:aws:s3:::fleet\/hosts\/web1\/pacha_post\/\*"\]/);
  assert.match(JSON.stringify(hostPolicy('fleet', '', 'web1')), /"arn:aws:s3:::fleet\/web1\/\*"/, 'no prefix: the host at the bucket\'s root');
});

test('SSH key options are refused on S3 (exit 2), naming IAM; nothing is written', async () => {
  for (const args of [['add-host', 'web2', '--keygen'], ['add-host', 'web1', '--revoke']]) {
    const r = await admin.pacha(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /s3:\/\/fleet\/hosts: a host's access is its IAM role, not an SSH key/);
  }
  assert.deepEqual(await s3.keys(`${PREFIX}/web2/`), []);
});

test('hosts lists the marked host and a host with repositories; an invalid name is refused', async () => {
  const w = makeS3World(s3, { host: 'db1' });
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(`${w.root}/etc/db`, { recursive: true });
  writeFileSync(`${w.root}/etc/db/my.cnf`, 'x\n');
  assert.equal((await w.pacha(['watch', `${w.root}/etc/db`])).code, 0);
  const r = await admin.pacha(['--json', 'hosts']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { hosts: Array<{ host: string; repositories: string[] }> };
  assert.deepEqual(doc.hosts.map((h) => h.host), ['db1', 'web1']);
  const [db1, web1] = doc.hosts;
  assert.equal(db1!.repositories.length, 1, r.stdout);
  assert.match(db1!.repositories[0]!, /db/);
  assert.deepEqual(web1!.repositories, [], 'marked by add-host, nothing tracked yet');
  const bad = await admin.pacha(['add-host', '../x']);
  assert.equal(bad.code, 2);
});
