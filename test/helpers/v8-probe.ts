// A process-wide V8 setting, seen from a node child process of its own (a flag set in the
// test's process would hold for every test after it): run a snippet with a built module
// imported, and read what V8 did.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/** Run `body` as an ES module in a fresh node with the module at `modulePath` imported as `as`; its stdout, trimmed. Node must say nothing on stderr (an unknown flag is a warning there). */
export function inNodeWith(modulePath: string, as: string, body: string, nodeArgs: string[] = []): string {
  const script = `const ${as} = await import(${JSON.stringify(modulePath)});\n${body}`;
  const run = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '', 'node said something about a flag');
  return run.stdout.trim();
}

/** A snippet that runs a hot function and prints 'optimized' or 'interpreted' (needs --allow-natives-syntax). */
export const HOT_FUNCTION =
  'function f(a) { let s = 0; for (let i = 0; i < 100; i++) s += a * i; return s; }\n' +
  'let t = 0; for (let i = 0; i < 2e5; i++) t += f(i);\n' +
  "console.log((new Function('f', 'return %GetOptimizationStatus(f)')(f) & 16) !== 0 ? 'optimized' : 'interpreted');";
