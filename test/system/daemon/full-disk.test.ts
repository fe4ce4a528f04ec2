// The state dir's disk fills up under the daemon (a 2 MB tmpfs), then grows: the daemon
// says so loudly (log and `pacha status`), stays alive, and catches up by itself.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { makeWorld } from '../../helpers/world.js';
import { startDaemon } from './helpers/daemon-process.js';
import { inSync, readIn, until } from './helpers/master-view.js';

test('a full state dir (2 MB tmpfs): the daemon lives, reports it, and catches up when the disk grows', async () => {
  const world = await makeWorld({ ssh: false });
  mkdirSync(world.stateDir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', world.stateDir]);
  let mounted = true;
  const unmount = () => {
    if (mounted) execFileSync('umount', ['-l', world.stateDir]);
    mounted = false;
  };
  after(unmount);
  const dir = path.join(world.root, 'etc', 'app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a.conf'), 'a = 0\n');
  world.writeConfig([`pacha.watch = ${dir}`]);
  const gitDir = path.join(world.stateDir, 'repos', 'app.git');
  const repo = path.join(world.masterDir, 'bar', 'app');

  const daemon = startDaemon(world.config);
  await daemon.waitFor(/pushed .*app/);
  // Incompressible files until a commit no longer fits.
  let n = 0;
  while (!/STATE DIR .*no space left/.test(daemon.stderr()) && n < 40) {
    n++;
    writeFileSync(path.join(dir, `blob${n}.bin`), randomBytes(256 * 1024));
    await new Promise((r) => setTimeout(r, 400));
  }
  await daemon.waitFor(/STATE DIR .*no space left \(ENOSPC\)/, 20_000);
  writeFileSync(path.join(dir, 'a.conf'), 'a = last\n');
  await new Promise((r) => setTimeout(r, 2_000));
  assert.equal(daemon.child.exitCode, null, daemon.stderr());

  const human = await world.pacha(['status']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /STATE DIR .*(almost full|no space left)/);
  const json = JSON.parse((await world.pacha(['--json', 'status'])).stdout);
  assert.match(json.stateDirHealth.problem, /ENOSPC/);

  execFileSync('mount', ['-o', 'remount,size=64m', world.stateDir]);
  await daemon.waitFor(/state dir .* can be written again/, 40_000);
  await until('every edit on the master', () => inSync(gitDir, repo) && readIn(repo, 'a.conf') === 'a = last\n', 40_000);
  assert.equal(statSync(path.join(repo, `blob${n}.bin`)).size, 256 * 1024, 'the last file written while the disk was full');
  const after2 = JSON.parse((await world.pacha(['--json', 'status'])).stdout);
  assert.equal(after2.stateDirHealth.problem, undefined);
  assert.equal(after2.daemon.storage, null);
  assert.equal(after2.paths[0].unpushed, 0);
  assert.doesNotMatch(daemon.stderr(), /Unhandled|internal error/i);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  unmount();
});
