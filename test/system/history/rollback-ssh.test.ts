// A rollback over a real sshd: the rollback commit reaches the master's working copy; with
// the master unreachable the rollback is still done, its commit waits locally (exit 4) and
// the next push delivers it.
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../../helpers/sshd.js';
import { makeWorld, type World } from '../../helpers/world.js';
import { metadataOfWorkingCopy } from '../../helpers/metadata.js';

let world: World;
let foo: string;
let masterFile: string;

before(async () => {
  world = await makeWorld({ ssh: true });
  foo = path.join(world.root, 'srv/foo');
  mkdirSync(foo, { recursive: true });
  writeFileSync(path.join(foo, 'app.conf'), 'v1\n');
  chmodSync(path.join(foo, 'app.conf'), 0o640);
  masterFile = path.join(world.masterDir, 'bar/foo/app.conf');
  const r = await world.pacha(['watch', foo]);
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(path.join(foo, 'app.conf'), 'v2\n');
  chmodSync(path.join(foo, 'app.conf'), 0o600);
  const p = await world.pacha(['push']);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(readFileSync(masterFile, 'utf8'), 'v2\n');
});

after(async () => {
  await world.sshd?.stop();
});

test('the rollback commit reaches the master over ssh', async () => {
  const r = await world.pacha(['rollback', path.join(foo, 'app.conf'), '--to', 'HEAD~1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pushed .*srv\/foo: 1 commit/);
  assert.equal(readFileSync(path.join(foo, 'app.conf'), 'utf8'), 'v1\n');
  assert.equal(lstatSync(path.join(foo, 'app.conf')).mode & 0o7777, 0o640);
  assert.equal(readFileSync(masterFile, 'utf8'), 'v1\n');
  const metadata = metadataOfWorkingCopy(path.join(world.masterDir, 'bar/foo'));
  assert.equal(metadata.entries.find((e) => e.path === 'app.conf')?.mode, 0o640);
});

test('master unreachable: rolled back and committed locally, exit 4, pushed by the next push', async () => {
  world.writeConfig([`pacha.ssh.port = ${await freePort()}`]);
  const r = await world.pacha(['rollback', path.join(foo, 'app.conf'), '--to', 'HEAD~1', '--json']);
  world.writeConfig();
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /not pushed: .*waits in the local store/);
  const result = JSON.parse(r.stdout) as { ok: boolean; commit: { sha: string }; push: { status: string } };
  assert.equal(result.ok, false);
  assert.equal(result.push.status, 'failed');
  assert.equal(readFileSync(path.join(foo, 'app.conf'), 'utf8'), 'v2\n');
  assert.equal(readFileSync(masterFile, 'utf8'), 'v1\n');
  const p = await world.pacha(['push']);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(readFileSync(masterFile, 'utf8'), 'v2\n');
  const log = JSON.parse((await world.pacha(['log', foo, '--json'])).stdout) as { commits: Array<{ sha: string }> };
  assert.equal(log.commits[0]?.sha, result.commit.sha);
});
