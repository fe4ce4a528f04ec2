// The git side of the S3 remote helper: which commits a repository has, bundles made and
// applied. Every bundle is made in a scratch bare repository that borrows the local
// repository's objects (objects/info/alternates), so the refs it names can be the master's
// (refs/pacha/diverged/…) without touching the local repository's refs.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface GitRun {
  (args: string[], options?: { gitDir?: string; input?: string }): Promise<string>;
}

/** git in the repository git runs the helper for (GIT_DIR), or in another given git dir. */
export function gitRunner(gitDir: string): GitRun {
  return (args, options = {}) =>
    new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { ...process.env, GIT_DIR: options.gitDir ?? gitDir };
      delete env.GIT_WORK_TREE;
      const child = execFile('git', args, { env, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
        if (error) reject(new Error(`git ${args[0]} failed: ${String(stderr).trim() || error.message}`));
        else resolve(String(stdout));
      });
      if (options.input !== undefined) child.stdin?.end(options.input);
    });
}

/** Which of `shas` are commits present here (one git call). */
export async function presentCommits(git: GitRun, shas: string[]): Promise<Set<string>> {
  const unique = [...new Set(shas)];
  if (unique.length === 0) return new Set();
  const out = await git(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { input: unique.map((s) => `${s}\n`).join('') });
  return new Set(
    out
      .split('\n')
      .map((line) => line.split(' '))
      .filter(([, type]) => type === 'commit')
      .map(([sha]) => sha!),
  );
}

export async function isAncestor(git: GitRun, older: string, newer: string): Promise<boolean> {
  return git(['merge-base', '--is-ancestor', older, newer]).then(
    () => true,
    () => false,
  );
}

/** A scratch bare repository borrowing `gitDir`'s objects; removed by dispose(). */
export async function scratchRepository(git: GitRun, parent: string): Promise<{ dir: string; git: GitRun; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(parent, 'pacha-s3-'));
  await git(['init', '-q', '--bare'], { gitDir: dir });
  const objects = path.resolve((await git(['rev-parse', '--git-path', 'objects'])).trim());
  await writeFile(path.join(dir, 'objects', 'info', 'alternates'), `${objects}\n`);
  const scratch: GitRun = (args, options = {}) => git(args, { ...options, gitDir: dir });
  return { dir, git: scratch, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Write a bundle of `refs` (name -> commit) to `file`, leaving out what `exclude` already
 * reaches. False when there is nothing new to carry (git refuses an empty bundle).
 */
export async function createBundle(scratch: GitRun, refs: Record<string, string>, exclude: string[], file: string): Promise<boolean> {
  const tips = [...new Set(Object.values(refs))];
  const count = Number((await scratch(['rev-list', '--count', ...tips, '--not', ...exclude, '--'])).trim());
  if (count === 0) return false;
  for (const [ref, sha] of Object.entries(refs)) await scratch(['update-ref', ref, sha]);
  await scratch(['bundle', 'create', '-q', file, ...Object.keys(refs), ...exclude.map((s) => `^${s}`)]);
  return true;
}

/** Bring a bundle's objects into the repository (refs untouched: the caller sets them). */
export async function applyBundle(git: GitRun, file: string): Promise<void> {
  await git(['bundle', 'unbundle', file]);
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}


/** Each commit's committer date (unix seconds) and trailer lines, for the pointer's stamps (one git call). */
export async function commitStamps(git: GitRun, shas: string[]): Promise<Map<string, { time: number; trailers: string[] }>> {
  const unique = [...new Set(shas)];
  const stamps = new Map<string, { time: number; trailers: string[] }>();
  if (unique.length === 0) return stamps;
  const out = await git(['show', '-s', '--no-walk=unsorted', '--format=%H%x09%ct%n%(trailers:only,unfold)%x00', ...unique, '--']);
  for (const record of out.split('\0')) {
    const [head = '', ...trailers] = record.replace(/^\n+/, '').split('\n');
    const [sha = '', seconds = ''] = head.split('\t');
    if (/^[0-9a-f]{40}$/.test(sha) && Number.isFinite(Number(seconds)) && seconds !== '') stamps.set(sha, { time: Number(seconds), trailers: trailers.filter(Boolean) });
  }
  return stamps;
}

/** Committer dates of the commits `tip` reaches and `exclude` does not, since `since` (unix seconds), newest first, at most `max`. */
export async function commitTimes(git: GitRun, tip: string, exclude: string[], since: number, max: number): Promise<number[]> {
  const out = await git(['log', `--since=@${Math.floor(since)}`, '-n', String(max), '--format=%ct', tip, ...exclude.map((s) => `^${s}`), '--']);
  return out.split('\n').filter(Boolean).map(Number).filter(Number.isFinite);
}
