// REV for log/diff/show/rollback: a commit of the tracked path's history (a sha prefix,
// HEAD~2, main@{1} …) or a time, which stands for the last commit at or before it.
import { UsageError } from '../errors.js';
import { BRANCH } from '../store/commit.js';
import { revParse, type Git } from '../store/git.js';
import { parseTime } from './time.js';

export interface Revision {
  /** As the user wrote it. */
  given: string;
  sha: string;
  /** Committer time, ISO 8601. */
  time: string;
  subject: string;
  /** Set when REV was a time: the moment it named. */
  asOf?: string;
}

const HINT = '`pacha log PATH` lists the commits; a time looks like "2 hours ago", "yesterday" or 2024-05-01T12:00';

async function describe(git: Git, sha: string): Promise<{ time: string; subject: string }> {
  const [time = '', subject = ''] = (await git.raw(['log', '-1', '--format=%cI%x00%s', sha, '--'])).trim().split('\0');
  return { time, subject };
}

/** Resolve REV against one tracked path's git dir; a UsageError (exit 2) when it names nothing. */
export async function resolveRevision(git: Git, location: string, given: string, now: Date = new Date()): Promise<Revision> {
  const text = given.trim();
  // A leading '-' would be read by git as an option.
  if (text === '' || text.startsWith('-')) throw new UsageError(`'${given}' is not a revision of ${location}`, { hint: HINT });
  const when = parseTime(text, now);
  if (when) {
    const seconds = Math.floor(when.getTime() / 1000);
    const sha = (await git.raw(['rev-list', '-1', `--before=@${seconds}`, BRANCH, '--'])).trim();
    if (!sha) {
      const first = (await git.raw(['rev-list', '--max-parents=0', BRANCH, '--'])).trim().split('\n')[0];
      const since = first ? ` (its first commit is from ${(await describe(git, first)).time})` : '';
      throw new UsageError(`no commit of ${location} is as old as ${when.toISOString()}${since}`, { hint: HINT });
    }
    return { given, sha, ...(await describe(git, sha)), asOf: when.toISOString() };
  }
  const sha = await revParse(git, text);
  if (!sha) throw new UsageError(`'${given}' is neither a commit of ${location} nor a time`, { hint: HINT });
  return { given, sha, ...(await describe(git, sha)) };
}
