// One writer at a time: `pacha push` (cron) beside a daemon that commits and pushes all the
// time. Every run waits its turn and succeeds; nobody removes a git lock a live process holds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeWorld } from '../../helpers/world.js';
import { startDaemon } from './helpers/daemon-process.js';
import { inSync, until } from './helpers/master-view.js';

test('twenty `pacha push` runs against a busy daemon all succeed; no live git lock is removed', async () => {
  const world = await makeWorld({ ssh: false });
  const dir = path.join(world.root, 'etc', 'busy');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a.conf'), 'a = 0\n');
  world.writeConfig([`pacha.watch = ${dir}`, 'pacha.push.delay = 20', 'pacha.push.max_delay = 100']);
  const daemon = startDaemon(world.config);
  await daemon.waitFor(/pushed .*busy/);

  // Edits all the time: the daemon commits and pushes while the pushes run.
  let editing = true;
  let edits = 0;
  const editor = (async () => {
    while (editing) {
      edits++;
      // Written beside and renamed, as editors do: git never reads half a file.
      const file = path.join(dir, `f${edits % 7}.conf`);
      writeFileSync(`${file}.new`, `edit ${edits}\n`);
      renameSync(`${file}.new`, file);
      await new Promise((r) => setTimeout(r, 60));
    }
  })();
  const failures: string[] = [];
  try {
    for (let round = 0; round < 10; round++) {
      // Two at a time, beside the daemon: three writers.
      const results = await Promise.all([world.pacha(['push']), world.pacha(['--json', 'push'])]);
      for (const r of results) if (r.code !== 0) failures.push(`exit ${r.code}: ${r.stderr}`);
    }
  } finally {
    editing = false;
    await editor;
  }
  assert.deepEqual(failures, []);
  assert.ok(edits > 20, `${edits} edits`);
  const gitDir = path.join(world.stateDir, 'repos', 'busy.git');
  const repo = path.join(world.masterDir, 'bar', 'busy');
  await until('the master has everything', () => inSync(gitDir, repo), 30_000);
  assert.equal(daemon.child.exitCode, null);
  assert.doesNotMatch(daemon.stderr(), /removed stale git lock|ECONCURRENT|commit of .* failed/);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  const fsck = spawnSync('git', ['--git-dir', gitDir, 'fsck', '--no-progress', '--no-dangling'], { encoding: 'utf8' });
  assert.equal(fsck.status, 0, `git fsck: ${fsck.stdout}${fsck.stderr}`);
});
