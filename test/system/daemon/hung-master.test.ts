// A master that accepts TCP but never speaks SSH (a hung sshd, a stalled load balancer):
// SIGSTOP on the test sshd. The daemon must stay alive, keep committing, and deliver every
// edit in order once the master speaks again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeWorld } from '../../helpers/world.js';
import { dropMasterConnections, startDaemon } from './helpers/daemon-process.js';
import { inSync, masterLog, readIn, until } from './helpers/master-view.js';

const localLog = (gitDir: string) => execFileSync('git', ['--git-dir', gitDir, 'log', '--format=%s', 'main']).toString().trim().split('\n');

test('sshd SIGSTOPped for 40 s with edits arriving: the daemon lives, and every edit reaches the master in order after SIGCONT', async () => {
  const world = await makeWorld({ ssh: true });
  const dir = path.join(world.root, 'etc', 'app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a.conf'), 'a = 0\n');
  // Two paths: `late` is first pushed while the master hangs, so ssh2 (creating its
  // repository) meets the hung master too, not only OpenSSH.
  const late = path.join(world.root, 'etc', 'late');
  mkdirSync(late, { recursive: true });
  writeFileSync(path.join(late, 'l.conf'), 'l = 0\n');
  world.writeConfig([`pacha.watch = ${dir}`]);
  const gitDir = (name: string) => path.join(world.stateDir, 'repos', `${name}.git`);
  const repo = (name: string) => path.join(world.masterDir, 'bar', name);

  const daemon = startDaemon(world.config);
  await daemon.waitFor(/pushed .*app/);
  world.sshd!.pause();
  try {
    assert.ok(world.sshd!.dropSessions() > 0, 'no established session to drop');
    dropMasterConnections(world.stateDir);
    const started = Date.now();
    world.writeConfig([`pacha.watch = ${dir},${late}`]);
    daemon.child.kill('SIGHUP');
    let i = 0;
    while (Date.now() - started < 40_000) {
      i++;
      writeFileSync(path.join(dir, 'a.conf'), `a = ${i}\n`);
      await until(`local commit ${i}`, () => localLog(gitDir('app')).length === i + 1, 30_000).catch((error: Error) => {
        throw new Error(`${error.message}; daemon ${daemon.child.exitCode === null ? 'alive' : `exited ${daemon.child.exitCode}`}:\n${daemon.stderr()}`);
      });
      assert.equal(daemon.child.exitCode, null, `daemon died:\n${daemon.stderr()}`);
      await new Promise((r) => setTimeout(r, 2_000));
    }
    assert.ok(i >= 5, `only ${i} edits in 40 s`);
    assert.match(daemon.stderr(), /push of .*failed/);
  } finally {
    world.sshd!.resume();
  }
  await until('every commit on the master', () => inSync(gitDir('app'), repo('app')) && inSync(gitDir('late'), repo('late')), 120_000);
  assert.deepEqual(masterLog(repo('app')), localLog(gitDir('app')));
  assert.equal(readIn(repo('late'), 'l.conf'), 'l = 0\n');
  assert.equal(daemon.child.exitCode, null, daemon.stderr());
  // ssh2 (creating late's repository) met the hung master, and nothing escaped a handler.
  assert.match(daemon.stderr(), /push of .*late failed .*did not answer within/);
  assert.doesNotMatch(daemon.stderr(), /Unhandled|uncaught|internal error/i);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});
