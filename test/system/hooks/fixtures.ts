// Real hook directories for the runner's tests: sh scripts in a temporary directory.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { HookEntry } from '../../../src/hooks/index.js';
import { tempDir } from '../../helpers/tmp.js';

export interface HookDirs {
  /** pacha_<phase>/ as staged. */
  hooks: string;
  /** The stage: the hooks' working directory. */
  stage: string;
  /** Where hooks leave markers. */
  markers: string;
}

export function hookDirs(): HookDirs {
  const root = tempDir('pacha-hooks-');
  const dirs = { hooks: path.join(root, 'hooks'), stage: path.join(root, 'stage'), markers: path.join(root, 'markers') };
  for (const dir of Object.values(dirs)) mkdirSync(dir);
  return dirs;
}

/** Write an sh hook. `body` is the script after the shebang. */
export function writeHook(dir: string, name: string, body: string, mode = 0o755): void {
  writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode });
}

/** The entries of a local hook directory, as Master.fetchHooks describes them. */
export function listHookEntries(dir: string): HookEntry[] {
  return readdirSync(dir).map((name) => {
    const st = lstatSync(path.join(dir, name));
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other';
    return { name, type, mode: st.mode & 0o7777 };
  });
}

export function readLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
}

/** A process is gone when it no longer exists or is a zombie nobody reaped yet. */
function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Wait (bounded) for a process to die; false when it is still alive after the bound. */
export async function waitGone(pid: number, boundMs = 10_000): Promise<boolean> {
  for (let waited = 0; waited < boundMs; waited += 50) {
    if (processGone(pid)) return true;
    await delay(50);
  }
  return processGone(pid);
}

export function isAlive(pid: number): boolean {
  return !processGone(pid);
}
