// Master.copyRefs for an S3 master: a repository's refs brought into a local git dir by
// this process itself — the pointer read, the bundles the git dir lacks downloaded and
// applied — where `git fetch`/`git clone` through pacha-s3:: would start git's remote
// helper, one more node process loading the AWS SDK per git call (boot made three: the
// fence's ls-remote and fetch, the stage's clone; about half of an S3 boot's CPU).
// Then the same checks as git's after a fetch, and the refs set in one transaction
// (copied-refs.ts): a bucket missing an object fails the copy and leaves no ref behind.
import path from 'node:path';
import { localGitRun, setCopiedRefs } from '../copied-refs.js';
import type { Bucket } from './bucket.js';
import { S3Repository } from './repository.js';

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
  return setCopiedRefs(git, copied, `s3://${options.bucket.name}/${options.prefix}: the bundles do not hold every object the pointer's refs need`);
}
