// Reading what reached the master: its working copy (updateInstead), its log, its metadata.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { Metadata } from '../../../../src/store/metadata.js';
import { metadataOfWorkingCopy } from '../../../helpers/metadata.js';

export function masterRepo(masterDir: string, host: string, name: string): string {
  return path.join(masterDir, host, name);
}

export function masterLog(repo: string): string[] {
  if (!existsSync(path.join(repo, '.git'))) return [];
  try {
    return execFileSync('git', ['-C', repo, 'log', '--format=%s', 'main'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** The sha of main in a git dir or a repository with a working copy; undefined if none. */
export function headOf(gitDirOrRepo: string): string | undefined {
  try {
    return execFileSync('git', ['--git-dir', existsSync(path.join(gitDirOrRepo, '.git')) ? path.join(gitDirOrRepo, '.git') : gitDirOrRepo, 'rev-parse', '-q', '--verify', 'main'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/** The master has exactly the host's history (after the push's ref update, not just its working copy). */
export function inSync(localGitDir: string, repo: string): boolean {
  const local = headOf(localGitDir);
  return local !== undefined && local === headOf(repo);
}

export function masterMetadata(repo: string): Metadata | undefined {
  try {
    return metadataOfWorkingCopy(repo);
  } catch {
    return undefined;
  }
}

export function readIn(repo: string, rel: string): string | undefined {
  try {
    return readFileSync(path.join(repo, rel), 'utf8');
  } catch {
    return undefined;
  }
}

export function linkIn(repo: string, rel: string): string | undefined {
  try {
    return lstatSync(path.join(repo, rel)).isSymbolicLink() ? readlinkSync(path.join(repo, rel)) : undefined;
  } catch {
    return undefined;
  }
}

/** Poll until `check` holds (20 s at most): waiting, not timing — the test asserts what arrives. */
export async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
