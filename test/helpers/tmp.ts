import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const cleanups: Array<() => void> = [];
process.once('exit', () => {
  for (const cleanup of cleanups.reverse()) {
    try {
      cleanup();
    } catch {
      // best effort: a test process is ending
    }
  }
});

/**
 * Run `fn` when the test process exits. (node:test's after() registered inside a before()
 * hook runs when that hook ends, too early for fixtures shared by a file's tests.)
 */
export function atExit(fn: () => void): void {
  cleanups.push(fn);
}

/** A fresh temporary directory, removed when the test process ends. */
export function tempDir(prefix = 'pacha-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  atExit(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
