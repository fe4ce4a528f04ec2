// readCommitSummary: what `pacha status` shows of the last commit, read from the loose object
// without a git process, must be exactly what `git log -1 --format=%H%x00%cI%x00%s` says.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readCommitSummary } from '../../../src/store/objects.js';

test('the summary read from a loose commit equals git log (time zones, multi-line subjects); a packed one is left to git', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pacha-summary-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const git = (args: string[], env: Record<string, string> = {}) =>
    execFileSync('git', ['--git-dir', dir, ...args], { env: { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@b', GIT_COMMITTER_NAME: 'c', GIT_COMMITTER_EMAIL: 'c@d', ...env } }).toString();
  git(['init', '-q', '--bare']);
  const tree = execFileSync('git', ['--git-dir', dir, 'mktree'], { input: '' }).toString().trim();
  let sha = '';
  const cases: Array<[string, string]> = [
    ['one line', '2026-11-30T18:50:25+00:00'],
    ['first line\nsecond line of the subject\n\nbody text', '2026-01-02T03:04:05-07:30'],
    ['  spaced  \n\n', '2026-06-30T23:59:59+05:45'],
  ];
  for (const [message, date] of cases) {
    sha = execFileSync('git', ['--git-dir', dir, 'commit-tree', tree, '-m', message], {
      env: { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@b', GIT_COMMITTER_NAME: 'c', GIT_COMMITTER_EMAIL: 'c@d', GIT_COMMITTER_DATE: date },
    }).toString().trim();
    const [hash, time, subject] = git(['log', '-1', '--format=%H%x00%cI%x00%s', sha]).trim().split('\0');
    assert.deepEqual(await readCommitSummary(dir, sha), { sha: hash, time, subject: subject ?? '' }, JSON.stringify(message));
  }
  git(['update-ref', 'refs/heads/main', sha]);
  git(['repack', '-q', '-a', '-d']);
  git(['prune-packed']);
  assert.equal(await readCommitSummary(dir, sha), undefined, 'a packed commit is not read by hand');
});
