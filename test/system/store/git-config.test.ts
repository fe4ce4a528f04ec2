// Setting a git dir's config values without a git process per value (issue 14, rebuild
// speed): what git itself then reads must be exactly what `git config KEY VALUE` leaves.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setConfigValues, withConfigValues } from '../../../src/store/git.js';

const gitConfig = (gitDir: string, ...args: string[]): string =>
  execFileSync('git', ['config', ...args], { env: { ...process.env, GIT_DIR: gitDir, GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' }, encoding: 'utf8' }).trim();

function bareRepository(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pacha-git-config-'));
  execFileSync('git', ['init', '-q', '--bare', dir]);
  return dir;
}

describe('setConfigValues', () => {
  test('git reads every value set, once, and a later `git config` of the same key still works', async () => {
    const dir = bareRepository();
    try {
      const worktree = '/srv/odd "name" \\ with\ttab';
      await setConfigValues(dir, [
        ['core.bare', 'false'],
        ['core.worktree', worktree],
        ['core.autocrlf', 'false'],
        ['pack.threads', '1'],
        ['gc.autoDetach', 'false'],
      ]);
      assert.equal(gitConfig(dir, '--get-all', 'core.bare'), 'false');
      assert.equal(gitConfig(dir, '--get-all', 'core.worktree'), worktree);
      assert.equal(gitConfig(dir, '--get-all', 'pack.threads'), '1');
      assert.equal(gitConfig(dir, '--get-all', 'gc.autodetach'), 'false');
      assert.equal(gitConfig(dir, '--get', 'core.repositoryformatversion'), '0', 'what git wrote stays');
      gitConfig(dir, 'core.bare', 'true'); // fails on a key with two values
      assert.equal(gitConfig(dir, '--get-all', 'core.bare'), 'true');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('is idempotent: a second call leaves the file as it was', async () => {
    const dir = bareRepository();
    try {
      const settings: Array<[string, string]> = [['core.quotePath', 'false'], ['pack.windowMemory', '64m']];
      await setConfigValues(dir, settings);
      const once = readFileSync(path.join(dir, 'config'), 'utf8');
      await setConfigValues(dir, settings);
      assert.equal(readFileSync(path.join(dir, 'config'), 'utf8'), once);
      assert.equal(gitConfig(dir, '--get-all', 'core.quotepath'), 'false');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a value git could not read back plainly (a newline) is left to git', async () => {
    assert.equal(withConfigValues('[core]\n', [['core.worktree', 'a\nb']]), undefined);
    assert.equal(withConfigValues('[core]\n\tbare = \\\n  true\n', [['core.bare', 'false']]), undefined);
    const dir = bareRepository();
    try {
      writeFileSync(path.join(dir, 'config'), '[core] bare = true\n');
      await setConfigValues(dir, [['core.bare', 'false']]);
      assert.equal(gitConfig(dir, '--get-all', 'core.bare'), 'false');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('keys of another section or a subsection are kept', () => {
    const text = '[core]\n\tbare = true\n[remote "origin"]\n\tbare = x\n[pack]\n\tthreads = 4\n';
    const next = withConfigValues(text, [['core.bare', 'false']])!;
    assert.match(next, /\[remote "origin"\]\n\tbare = x/);
    assert.match(next, /threads = 4/);
    assert.doesNotMatch(next, /bare = true/);
  });
});
