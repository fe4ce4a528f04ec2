// Divergence seen from cron (`pacha push`), not only by the daemon: recorded, shown by
// `pacha status` (human and --json) with the steps to resolve it, one diverged ref on the
// master per diverging history, updated in place; following the steps resumes pushes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeWorld } from '../../helpers/world.js';
import { headOf } from './helpers/master-view.js';

test('pacha push records a divergence; status shows it with steps; retries update one ref; the steps resolve it', async () => {
  const world = await makeWorld({ ssh: false });
  const dir = path.join(world.root, 'etc', 'app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a.conf'), 'a = 0\n');
  assert.equal((await world.pacha(['watch', dir])).code, 0);
  const repo = path.join(world.masterDir, 'bar', 'app');
  const gitDir = path.join(world.stateDir, 'repos', 'app.git');
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=admin', '-c', 'user.email=admin@master', ...args]).toString().trim();
  const divergedRefs = () => git('for-each-ref', '--format=%(refname) %(objectname)', 'refs/pacha/diverged/').split('\n').filter(Boolean);

  // An admin commits on the master; the host commits too.
  writeFileSync(path.join(repo, 'admin.txt'), 'admin\n');
  git('add', 'admin.txt');
  git('commit', '-q', '-m', 'admin edit');
  const adminHead = headOf(repo);
  writeFileSync(path.join(dir, 'a.conf'), 'a = 1\n');
  const first = await world.pacha(['push']);
  assert.equal(first.code, 4, first.stderr);
  assert.match(first.stderr, /diverged .*refs\/pacha\/diverged\/bar\/[0-9a-f]{12}.*pacha status/);
  assert.equal(headOf(repo), adminHead, 'nothing forced');
  assert.equal(divergedRefs().length, 1);

  const human = await world.pacha(['status']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /DIVERGED since .*refs\/pacha\/diverged\/bar\/[0-9a-f]{12}.*To resolve:/);
  assert.match(human.stdout, /1\. on the master, in .*\/bar\/app: compare/);
  assert.match(human.stdout, /git reset --keep refs\/pacha\/diverged\/bar\//);
  const json = JSON.parse((await world.pacha(['--json', 'status'])).stdout);
  const diverged = json.paths[0].diverged;
  assert.match(diverged.ref, /^refs\/pacha\/diverged\/bar\/[0-9a-f]{12}$/);
  assert.equal(diverged.steps.length, 4);

  // Retries (more commits, more pushes): the same ref, moved to the new head.
  for (let i = 2; i <= 3; i++) {
    writeFileSync(path.join(dir, 'a.conf'), `a = ${i}\n`);
    assert.equal((await world.pacha(['push'])).code, 4);
  }
  const refs = divergedRefs();
  assert.equal(refs.length, 1, refs.join('\n'));
  assert.equal(refs[0], `${diverged.ref} ${headOf(gitDir)}`);

  // Follow the steps: keep this host's history.
  git('branch', 'saved-main', 'main');
  git('reset', '-q', '--keep', diverged.ref);
  const resumed = await world.pacha(['push']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(headOf(repo), headOf(gitDir));
  const after = JSON.parse((await world.pacha(['--json', 'status'])).stdout);
  assert.equal(after.paths[0].diverged, null);
  assert.equal(after.paths[0].unpushed, 0);
});
