// Master.copyRefs for an S3 master: a repository's refs brought into a local git dir by
// this process itself — the pointer read, the bundles the git dir lacks downloaded and
// applied — where `git fetch`/`git clone` through pacha-s3:: would start git's remote
// helper, one more node process loading the AWS SDK per git call (boot made three: the
// fence's ls-remote and fetch, the stage's clone; about half of an S3 boot's CPU).
// The same checks as git's: every object the copied refs reach must be present before any
// ref is set (what git's connectivity check after a fetch does), and the refs are set in
// one transaction, so a bucket missing an object fails the copy and leaves no ref behind.
import path from 'node:path';
import { gitAt } from '../../store/git.js';
import type { Bucket } from './bucket.js';
import type { GitRun } from './git-objects.js';
import { S3Repository } from './repository.js';

/** A GitRun over pacha's own git runner (store/git.ts): a minimal environment, never the caller's. */
export function localGitRun(gitDir: string): GitRun {
  return (args, options = {}) => {
    const git = gitAt({ gitDir: options.gitDir ?? gitDir });
    return options.input === undefined ? git.raw(args) : git.bytes(args, Buffer.from(options.input)).then((out) => out.toString('utf8'));
  };
}

export interface CopyRefsOptions {
  bucket: Bucket;
  /** PREFIX/<host>/<name>/ */
  prefix: string;
  gitDir: string;
  /** The local ref for each of the master's refs, or undefined to leave it. */
  pick: (ref: string) => string | undefined;
  instance: string;
  compactAfter: number;
}

/** The refs copied: the master's ref name -> its commit. */
export async function copyRefsFromBucket(options: CopyRefsOptions): Promise<Record<string, string>> {
  const git = localGitRun(options.gitDir);
  const repository = new S3Repository({
    bucket: options.bucket,
    prefix: options.prefix,
    git,
    scratchParent: path.join(options.gitDir, 'pacha-s3'),
    instance: options.instance,
    compactAfter: options.compactAfter,
  });
  const pointer = await repository.fetchLatest(git, true);
  const copied = Object.entries(pointer.refs).flatMap(([ref, sha]) => {
    const local = options.pick(ref);
    return local === undefined ? [] : [{ ref, local, sha }];
  });
  if (copied.length === 0) return {};
  const tips = [...new Set(copied.map((c) => c.sha))];
  await git(['rev-list', '--objects', '--quiet', ...tips, '--not', '--all', '--']).catch((error: unknown) => {
    throw new Error(`s3://${options.bucket.name}/${options.prefix}: the bundles do not hold every object the pointer's refs need (${(error as Error).message.trim().split('\n')[0]})`);
  });
  await git(['update-ref', '--stdin'], { input: copied.map((c) => `update ${c.local} ${c.sha}\n`).join('') });
  return Object.fromEntries(copied.map((c) => [c.ref, c.sha]));
}
