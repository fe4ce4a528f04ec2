// The heartbeat: how the master learns that a host's daemon is alive when nothing changes.
// Into each of its repositories on the master the daemon pushes `refs/pacha/heartbeat`: a
// tiny commit (the empty tree, no parent, so it adds nothing to the history) whose committer
// date is the heartbeat's time and whose trailers say which instance and boot sent it.
// Each beat replaces the last (a forced update of that one ref, never of a branch). `pacha
// fleet` reads it: only the heartbeat decides whether a host is stale.
import { MasterUnreachableError } from '../errors.js';
import type { Master } from '../master/master.js';
import { classifyPushFailure } from './push.js';
import { parseTrailers, withTrailers, type HostFacts, type Provenance } from './provenance.js';
import { revParse } from './git.js';
import { PUSHED_REF, type Store, type TrackedPath } from './store.js';

export const HEARTBEAT_REF = 'refs/pacha/heartbeat';
/** git's empty tree: a heartbeat carries no files. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
export const DEFAULT_HEARTBEAT_SECONDS = 3600;

export interface Heartbeat extends Provenance {
  time: Date;
}

/**
 * Pure: whether to beat now. Never more often than `intervalMs`, except when this is another
 * boot or instance than the last beat said (a reboot or a new instance is news), or when the
 * clock went back before the last beat.
 */
export function heartbeatDue(last: Heartbeat | undefined, now: Date, facts: HostFacts, intervalMs: number): boolean {
  if (!last) return true;
  if ((last.boot ?? '') !== (facts.boot ?? '') || (last.instance ?? '') !== (facts.instance ?? '')) return true;
  const age = now.getTime() - last.time.getTime();
  return age < 0 || age >= intervalMs;
}

/** Pure: the heartbeat commit's message. */
export function heartbeatMessage(host: string, facts: HostFacts, origin: 'daemon' | 'boot' = 'daemon'): string {
  return withTrailers(`pacha heartbeat of ${host}`, { ...facts, origin });
}

/** The last heartbeat this host sent for a path (its local copy of the ref), if any. */
export async function lastHeartbeat(store: Store, tracked: TrackedPath): Promise<Heartbeat | undefined> {
  const git = store.git(tracked);
  const sha = await revParse(git, HEARTBEAT_REF);
  if (!sha) return undefined;
  const [seconds, ...message] = (await git.raw(['log', '-1', '--format=%ct%n%B', sha])).split('\n');
  return { time: new Date(Number(seconds) * 1000), ...parseTrailers(message.join('\n')) };
}

/**
 * Send one heartbeat for a path now. Skipped ('not-pushed') until the path's branch is on the
 * master: a heartbeat alone must not make a repository there.
 */
export async function sendHeartbeat(store: Store, tracked: TrackedPath, master: Master, now: Date, origin: 'daemon' | 'boot' = 'daemon'): Promise<'sent' | 'not-pushed'> {
  if (!(await revParse(store.git(tracked), PUSHED_REF))) return 'not-pushed';
  const date = `@${Math.floor(now.getTime() / 1000)} +0000`;
  const git = store.git(tracked, { ...master.gitEnv(), GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
  // git knows the empty tree without storing it; a commit naming it must have it stored, or
  // `git fsck` (here and on the master) reports it missing.
  await git.raw(['hash-object', '-w', '-t', 'tree', '/dev/null']);
  const sha = (await git.raw(['commit-tree', EMPTY_TREE, '-m', heartbeatMessage(store.host, await store.hostFacts(), origin)])).trim();
  try {
    await git.raw(['push', '--porcelain', '--quiet', master.repositoryUrl(store.host, tracked.name), `+${sha}:${HEARTBEAT_REF}`]);
  } catch (error) {
    const failure = classifyPushFailure(String((error as Error).message));
    throw new MasterUnreachableError(`heartbeat of ${tracked.location} to ${master.label} failed: ${failure.summary}`, { code: 'EHEARTBEAT', cause: error });
  }
  await git.raw(['update-ref', HEARTBEAT_REF, sha]);
  return 'sent';
}
