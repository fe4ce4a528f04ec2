// git-remote-pacha-s3: the git remote helper (gitremote-helpers(7)) that lets plain git push
// to and fetch from an S3 master, so nothing above the Master interface learns about S3.
// git runs it as `git-remote-pacha-s3 <remote> s3://BUCKET/PREFIX/<host>/<name>` (the URL
// pacha-s3::s3://… names it) with GIT_DIR set, and speaks on stdin/stdout:
//   capabilities            -> option, fetch, push
//   list [for-push]         -> the pointer's refs, "@refs/heads/main HEAD"
//   fetch <sha> <ref> …     -> the bundles this repository lacks are applied, oldest first
//   push [+]<src>:<dst> …   -> one bundle, one pointer swap; "ok <dst>" or "error <dst> <why>"
// git checks fast-forwards itself against `list for-push`; the helper checks again against
// the pointer it swaps, and answers "non-fast-forward" or "fetch first" in git's own words,
// which git reports as a rejected push (pacha then keeps the history under diverged/).
// Settings come from the environment S3Master.gitEnv() gives git: PACHA_S3_REGION,
// PACHA_S3_TIMEOUT, PACHA_S3_COMPACT_AFTER, AWS_ENDPOINT_URL_S3, the AWS credential chain.
import { createInterface } from 'node:readline';
import path from 'node:path';
import { isPachaError } from '../../errors.js';
import { parseS3Location } from '../../config/s3-url.js';
import { Bucket } from './bucket.js';
import { gitRunner } from './git-objects.js';
import { helperSettings } from './settings.js';
import { parsePushSpec, S3Repository, type PushSpec } from './repository.js';

export async function runRemoteHelper(args: string[], input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<number> {
  const url = (args[1] ?? '').replace(/^pacha-s3::/, '');
  const log = (line: string): void => void process.stderr.write(`pacha-s3: ${line}\n`);
  const gitDir = path.resolve(process.env.GIT_DIR ?? '.git');
  const location = parseS3Location(url);
  const settings = helperSettings(process.env);
  const bucket = new Bucket({
    bucket: location.bucket,
    region: settings.region,
    endpoint: settings.endpoint,
    retryMs: settings.timeoutSeconds * 1000,
    onRetry: (what, attempt, _error, delayMs) => log(`${what}: S3 is busy or unavailable; retry ${attempt} in ${delayMs} ms`),
  });
  const git = gitRunner(gitDir);
  const repository = new S3Repository({
    bucket,
    prefix: `${location.prefix}/`,
    git,
    scratchParent: path.join(gitDir, 'pacha-s3'),
    instance: settings.instance,
    compactAfter: settings.compactAfter,
    log,
  });
  const write = (text: string): void => void output.write(text);
  let fetching = false;
  let pushes: PushSpec[] = [];
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (line === 'capabilities') write('option\nfetch\npush\n\n');
      else if (line.startsWith('option ')) write('unsupported\n');
      else if (line === 'list' || line === 'list for-push') {
        const { pointer } = await repository.readPointer();
        for (const [ref, sha] of Object.entries(pointer.refs)) write(`${sha} ${ref}\n`);
        if (pointer.refs['refs/heads/main']) write('@refs/heads/main HEAD\n');
        write('\n');
      } else if (line.startsWith('fetch ')) fetching = true;
      else if (line.startsWith('push ')) pushes.push(parsePushSpec(line.slice('push '.length)));
      else if (line === '') {
        if (fetching) {
          fetching = false;
          await repository.fetchLatest(git);
          write('\n');
        } else if (pushes.length > 0) {
          const results = await repository.push(pushes);
          pushes = [];
          for (const r of results) write(r.ok ? `ok ${r.dst}\n` : `error ${r.dst} ${r.reason}\n`);
          write('\n');
        } else break;
      } else {
        log(`unknown command from git: ${JSON.stringify(line)}`);
        return 1;
      }
    }
    return 0;
  } catch (error) {
    // git shows the helper's stderr; pacha classifies it (ES3… codes are in the text).
    log(isPachaError(error) ? `${error.code}: ${error.message}${error.hint ? ` (${error.hint})` : ''}` : (error as Error).message);
    return isPachaError(error) ? 128 : 1;
  } finally {
    bucket.close();
    // Stop reading stdin, or the process would wait for git to close it.
    (input as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}
