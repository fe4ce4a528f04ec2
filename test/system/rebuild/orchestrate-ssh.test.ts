// The seed's crash story, for real: host bar tracks /opt/foo, pushes to a master over a real
// sshd, dies, and `pacha --rebuild bar` brings everything back with its hooks. Told twice:
// to a plain shell account (SFTP and sh), and through the gate of an enrolled key.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { inodes, makeAccount, makeRichTree, snapshot, writeHook, type TestAccount } from '../../helpers/tree.js';
import { makeWorld, type World } from '../../helpers/world.js';

for (const gate of [false, true]) describe(gate ? 'through the gate of an enrolled key' : 'as a plain shell account', () => crashStory(gate));

function crashStory(gate: boolean): void {
let world: World;
let account: TestAccount;
let foo: string;
let before_: Record<string, unknown>;

before(async () => {
  world = await makeWorld({ ssh: true, gate });
  account = makeAccount();
  foo = path.join(world.root, 'opt/foo');
  mkdirSync(foo, { recursive: true });
  makeRichTree(foo, account);
});

test('watch pushes /opt/foo to <hosts_path>/bar/foo with a readable working copy', async () => {
  const r = await world.pacha(['--watch', foo]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path.join(world.masterDir, 'bar/foo/app.conf'), 'utf8'), 'listen = 80\n');
  assert.ok(existsSync(path.join(world.masterDir, 'bar/foo/.pacha/metadata.json')));
  // Private at rest, whatever the account's umask: nothing of bar's copy is open to other users.
  const open = execFileSync('find', [path.join(world.masterDir, 'bar'), '!', '-type', 'l', '-perm', '/077'], { encoding: 'utf8' });
  assert.equal(open, '');
  const again = await world.pacha(['watch', foo]);
  assert.equal(again.code, 0);
  assert.match(again.stdout, /already tracked/);
});

test('an edit inside a subdirectory is committed and pushed by one cycle', async () => {
  writeFileSync(path.join(foo, 'sub/deep/nested.conf'), 'deep = 2\n');
  const r = await world.pacha(['--daemon-run-once']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /sub\/deep\/nested.conf/);
  assert.equal(readFileSync(path.join(world.masterDir, 'bar/foo/sub/deep/nested.conf'), 'utf8'), 'deep = 2\n');
  before_ = snapshot(foo);
});

test('bar dies; --dry-run shows the plan and touches nothing', async () => {
  rmSync(foo, { recursive: true, force: true });
  rmSync(world.stateDir, { recursive: true, force: true });
  const r = await world.pacha(['rebuild', 'bar', '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /create +setuid-tool/);
  assert.equal(existsSync(foo), false);
});

test('without a terminal and without --yes the rebuild refuses instead of hanging', async () => {
  const r = await world.pacha(['--rebuild', 'bar']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--yes/);
  assert.equal(existsSync(foo), false);
});

test('a failing pre hook stops the rebuild before any file is touched', async () => {
  writeHook(world.masterDir, 'bar', 'pre', '50-fail', 'echo "no disk" >&2; exit 3');
  const r = await world.pacha(['rebuild', 'bar', '--yes']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /50-fail/);
  assert.match(r.stderr, /exit code: 3/);
  assert.equal(existsSync(foo), false);
  rmSync(path.join(world.masterDir, 'bar/pacha_pre/50-fail'));
});

test('rebuild restores every file, mode, owner, symlink and empty dir, running hooks in order', async () => {
  const markers = path.join(world.dir, 'markers');
  mkdirSync(markers, { recursive: true });
  const log = (name: string): string =>
    `echo "${name} $PACHA_PHASE $PACHA_HOST root=$PACHA_ROOT placed=$(test -e ${foo}/app.conf && echo yes || echo no)" >> ${markers}/order`;
  writeHook(world.masterDir, 'bar', 'pre', '10-a', log('pre-10-a'));
  writeHook(world.masterDir, 'bar', 'pre', '02-b', log('pre-02-b'));
  writeHook(world.masterDir, 'bar', 'post', 'notify', log('post-notify'));
  const r = await world.pacha(['rebuild', 'bar', '--yes']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(snapshot(foo), before_);
  assert.equal(snapshot(foo)['owned.conf']?.uid, account.uid);
  assert.equal(snapshot(foo)['owned.conf']?.gid, account.gid);
  assert.deepEqual(readFileSync(path.join(markers, 'order'), 'utf8').trim().split('\n'), [
    'pre-02-b pre bar root=/ placed=no',
    'pre-10-a pre bar root=/ placed=no',
    'post-notify post bar root=/ placed=yes',
  ]);
  assert.match(r.stdout, /fetched foo: \d+ entries/);
});

test('a second rebuild writes nothing', async () => {
  const stamps = inodes(foo);
  const r = await world.pacha(['rebuild', 'bar', '--yes', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { repositories: Array<{ written: number; metadataUpdated: number; unchanged: number }> };
  assert.equal(report.repositories[0]?.written, 0);
  assert.equal(report.repositories[0]?.metadataUpdated, 0);
  assert.ok((report.repositories[0]?.unchanged ?? 0) > 10);
  assert.deepEqual(inodes(foo), stamps);
});

test('the rebuilt host keeps tracking on the same history', async () => {
  writeFileSync(path.join(foo, 'app.conf'), 'listen = 8080\n');
  const r = await world.pacha(['push']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path.join(world.masterDir, 'bar/foo/app.conf'), 'utf8'), 'listen = 8080\n');
});

test('a failing post hook completes the rebuild with exit 4', async () => {
  writeHook(world.masterDir, 'bar', 'post', 'zz-fail', 'exit 1');
  rmSync(foo, { recursive: true, force: true });
  const r = await world.pacha(['rebuild', 'bar', '--yes']);
  assert.equal(r.code, 4, r.stderr);
  assert.ok(existsSync(path.join(foo, 'app.conf')));
  rmSync(path.join(world.masterDir, 'bar/pacha_post/zz-fail'));
});

test('a wrong pinned host key is refused with exit 3 and nothing is touched', async () => {
  world.writeConfig(['pacha.ssh.known_hosts = /dev/null', 'pacha.ssh.host_key = ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKo4n4a9f0h1mJ4G5F4d9x3N7bqvVY2y9mX3QY1hZl3c']);
  rmSync(foo, { recursive: true, force: true });
  const r = await world.pacha(['rebuild', 'bar', '--yes']);
  world.writeConfig();
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /not the key pacha trusts/);
  assert.equal(existsSync(foo), false);
});

test('an unreachable master gives exit 3 and touches nothing', async () => {
  await world.sshd!.stop();
  const r = await world.pacha(['rebuild', 'bar', '--yes']);
  await world.sshd!.start();
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /127\.0\.0\.1/);
  assert.equal(existsSync(foo), false);
});

test('rebuilding a host the master does not have names the hosts it does have (or the gate refuses it)', async () => {
  const r = await world.pacha(['rebuild', 'nosuchhost', '--yes']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, gate ? /refused: this key is enrolled for host 'bar'; it may not reach host "nosuchhost"/ : /no host 'nosuchhost'/);
  assert.match(r.stderr, /bar/);
});
}
