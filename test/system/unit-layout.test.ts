// test/unit/ holds the pure tests: none of them may start a process (that is what makes
// `npm test -- test/unit` take seconds, and what the layout promises). Each unit test file is
// run here, all in one node whose child_process entry points all throw.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
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

test('no test under test/unit starts a process', { timeout: 600_000 }, async () => {
  const files = testFiles('test/unit');
  assert.ok(files.length > 20, `found ${files.length} unit test files`);
  // One node runs them all (node:test collects the tests of every file it imports), with the
  // guard loaded first. Without the runner's NODE_TEST_CONTEXT it reports in plain text.
  const guard = `data:text/javascript,${encodeURIComponent(GUARD)}`;
  const entry = files.map((f) => `await import(${JSON.stringify(pathToFileURL(path.resolve(f)).href)});`).join('\n');
  const env = { ...process.env, NODE_TEST_CONTEXT: undefined };
  const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', guard, '--input-type=module', '-e', entry], { encoding: 'utf8', maxBuffer: 64 << 20, env }).then(
    () => undefined,
    (error: { stdout?: string; stderr?: string }) => `${(error.stdout ?? '').split('\n').filter((l) => /^not ok|started a process/.test(l.trim())).slice(0, 10).join('\n')}\n${(error.stderr ?? '').slice(-1000)}`,
  );
  assert.equal(run, undefined, `unit tests fail with processes forbidden: move them to test/system/`);
});
