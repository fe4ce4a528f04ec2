// The seed's crash story with an S3 bucket as the master (moto_server): host bar tracks
// /opt/foo, pushes bundles to s3://fleet/hosts/bar/foo/, dies, and `pacha rebuild bar`
// brings everything back, hooks from the bucket included.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { inodes, makeAccount, makeRichTree, snapshot, type TestAccount } from '../../../helpers/tree.js';
import { startMotoS3, type MotoS3 } from '../../../helpers/moto-s3.js';
import { makeS3World, PREFIX, type S3World } from '../../../helpers/s3-world.js';

const s3: MotoS3 = await startMotoS3();
let world: S3World;
let account: TestAccount;
let foo: string;
let before_: Record<string, unknown>;
const hook = (body: string): string => `#!/bin/sh\nset -e\n${body}\n`;

before(() => {
  world = makeS3World(s3);
  account = makeAccount();
  foo = path.join(world.root, 'opt/foo');
  mkdirSync(foo, { recursive: true });
  makeRichTree(foo, account);
});

test('watch pushes /opt/foo as a bundle and a pointer under s3://fleet/hosts/bar/foo/', async () => {
  const r = await world.pacha(['--watch', foo]);
  assert.equal(r.code, 0, r.stderr);
  const keys = await s3.keys(`${PREFIX}/bar/foo/`);
  assert.ok(keys.includes(`${PREFIX}/bar/foo/pointer.json`), keys.join(' '));
  assert.equal(keys.filter((k) => /\/bundles\/[0-9a-f]{64}\.bundle$/.test(k)).length, 1, keys.join(' '));
  const pointer = JSON.parse(await s3.text(`${PREFIX}/bar/foo/pointer.json`)) as { refs: Record<string, string>; chain: unknown[] };
  assert.match(pointer.refs['refs/heads/main'] ?? '', /^[0-9a-f]{40}$/);
});

test('an edit is committed and pushed as one more incremental bundle', async () => {
  writeFileSync(path.join(foo, 'sub/deep/nested.conf'), 'deep = 2\n');
  const r = await world.pacha(['--daemon-run-once']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /sub\/deep\/nested.conf/);
  const pointer = JSON.parse(await s3.text(`${PREFIX}/bar/foo/pointer.json`)) as { chain: unknown[] };
  assert.ok(pointer.chain.length >= 2);
  before_ = snapshot(foo);
});

test('hosts and status see the bucket', async () => {
  const hosts = await world.pacha(['hosts']);
  assert.equal(hosts.code, 0, hosts.stderr);
  assert.match(hosts.stdout, /bar/);
  const status = await world.pacha(['status']);
  assert.equal(status.code, 0, status.stderr);
});

test('bar dies; a failing pre hook from the bucket stops the rebuild before any file is touched', async () => {
  rmSync(foo, { recursive: true, force: true });
  rmSync(world.stateDir, { recursive: true, force: true });
  await s3.putHook(`${PREFIX}/bar/pacha_pre/50-fail`, hook('echo "no disk" >&2; exit 3'));
  const r = await world.pacha(['rebuild', 'bar', '--yes']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /50-fail/);
  assert.equal(existsSync(foo), false);
  // Disabled the S3 way: a mode without an execute bit.
  await s3.putHook(`${PREFIX}/bar/pacha_pre/50-fail`, hook('exit 3'), { mode: '0644' });
});

test('rebuild from the bucket restores every file, mode, owner, symlink and empty dir, hooks in order', async () => {
  const markers = path.join(world.dir, 'markers');
  mkdirSync(markers, { recursive: true });
  const log = (name: string): string => hook(`echo "${name} $PACHA_PHASE $PACHA_HOST placed=$(test -e ${foo}/app.conf && echo yes || echo no)" >> ${markers}/order`);
  await s3.putHook(`${PREFIX}/bar/pacha_pre/10-a`, log('pre-10-a'));
  await s3.putHook(`${PREFIX}/bar/pacha_pre/02-b`, log('pre-02-b'));
  await s3.putHook(`${PREFIX}/bar/pacha_post/notify`, log('post-notify'));
  const r = await world.pacha(['rebuild', 'bar', '--yes']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(snapshot(foo), before_);
  assert.equal(snapshot(foo)['owned.conf']?.uid, account.uid);
  assert.deepEqual(readFileSync(path.join(markers, 'order'), 'utf8').trim().split('\n'), [
    'pre-02-b pre bar placed=no',
    'pre-10-a pre bar placed=no',
    'post-notify post bar placed=yes',
  ]);
  assert.match(r.stdout + r.stderr, /50-fail/); // reported as skipped (not executable)
});

test('a second rebuild writes nothing', async () => {
  const stamps = inodes(foo);
  const r = await world.pacha(['rebuild', 'bar', '--yes', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { repositories: Array<{ written: number }> };
  assert.equal(report.repositories[0]?.written, 0);
  assert.deepEqual(inodes(foo), stamps);
});

test('the rebuilt host keeps pushing on the same history, and log reads it', async () => {
  writeFileSync(path.join(foo, 'app.conf'), 'listen = 8080\n');
  const r = await world.pacha(['push']);
  assert.equal(r.code, 0, r.stderr);
  const log = await world.pacha(['log', foo]);
  assert.equal(log.code, 0, log.stderr);
  assert.ok(log.stdout.trim().split('\n').length >= 3, log.stdout);
  // A fresh clone from the bucket alone has the edit.
  rmSync(foo, { recursive: true, force: true });
  rmSync(world.stateDir, { recursive: true, force: true });
  const again = await world.pacha(['rebuild', 'bar', '--yes']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readFileSync(path.join(foo, 'app.conf'), 'utf8'), 'listen = 8080\n');
});

test('rebuilding a host the bucket does not have fails and names the hosts it has', async () => {
  const r = await world.pacha(['rebuild', 'nosuchhost', '--yes']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /bar/);
});
