// test/unit/ holds the pure tests: none of them may start a process (that is what makes
// `npm test -- test/unit` take seconds, and what the layout promises). Each unit test file is
// run here in a node whose child_process entry points all throw.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const GUARD = `
import cp from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'exec', 'execSync', 'fork']) {
  cp[name] = (file) => { throw new Error('a unit test started a process: ' + String(file)); };
}
syncBuiltinESMExports();
`;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return testFiles(full);
    return e.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Run one test file in this process's node (node:test runs a file's tests when it is the entry). */
async function runGuarded(file: string, guard: string): Promise<string | undefined> {
  try {
    // Without the runner's NODE_TEST_CONTEXT the file reports in plain text, not to this runner.
    const env = { ...process.env, NODE_TEST_CONTEXT: undefined };
    await promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', guard, file], { encoding: 'utf8', maxBuffer: 16 << 20, env });
    return undefined;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return `${file}:\n${(e.stdout ?? '').split('\n').filter((l) => /not ok|started a process/.test(l)).slice(0, 5).join('\n')}${(e.stderr ?? '').slice(-500)}`;
  }
}

test('no test under test/unit starts a process', { timeout: 600_000 }, async () => {
  const files = testFiles('test/unit');
  assert.ok(files.length > 20, `found ${files.length} unit test files`);
  const guard = `data:text/javascript,${encodeURIComponent(GUARD)}`;
  const failures: string[] = [];
  for (let i = 0; i < files.length; i += 4) {
    for (const failure of await Promise.all(files.slice(i, i + 4).map((f) => runGuarded(f, guard)))) if (failure) failures.push(failure);
  }
  assert.deepEqual(failures, [], 'these unit tests fail with processes forbidden: move them to test/system/');
});
