// Commit each tracked path that changed and push it: what `pacha push` and boot both do.
// Returns what happened per path and prints nothing; `events` lets the caller say it as it
// happens (sayCommitAndPush gives the lines every caller prints).
import { ExitCode, isPachaError, type PachaError } from '../errors.js';
import type { Output } from '../log.js';
import type { Master } from '../master/master.js';
import type { CommitResult } from './commit.js';
import type { CommitBy, PushResult, Store, TrackedPath } from './store.js';

export interface PathOutcome {
  location: string;
  name: string;
  commit?: string | null;
  changed?: string[];
  push?: PushResult;
  error?: Record<string, unknown>;
}

export interface CommitAndPushEvents {
  committed?(item: TrackedPath, commit: CommitResult): void;
  pushed?(item: TrackedPath, result: PushResult): void;
  failed?(item: TrackedPath, error: PachaError): void;
}

/** A divergence is exit 4 (nothing was forced; the commits wait); anything else pushed is 0. Pure. */
export function pushExitCode(result: PushResult): ExitCode {
  return result.status === 'diverged' ? ExitCode.partial : ExitCode.ok;
}

/** Push one tracked path; the exit code its result means. */
export async function pushTracked(
  store: Store,
  master: Master,
  tracked: TrackedPath,
  events: CommitAndPushEvents = {},
): Promise<{ result: PushResult; exitCode: ExitCode }> {
  const result = await store.push(tracked, master);
  events.pushed?.(tracked, result);
  return { result, exitCode: pushExitCode(result) };
}

/**
 * Commit each tracked path that changed and push it. One path's failure does not stop the
 * others (exit 4); an unreachable master stops them all (exit 3, thrown).
 */
export async function commitAndPushAll(
  store: Store,
  master: Master,
  items: readonly TrackedPath[],
  by: CommitBy,
  events: CommitAndPushEvents = {},
): Promise<{ exitCode: number; paths: PathOutcome[] }> {
  let worst: number = ExitCode.ok;
  const paths: PathOutcome[] = [];
  for (const item of items) {
    try {
      const commit = await store.commit(item, { by });
      if (commit) events.committed?.(item, commit);
      const push = await pushTracked(store, master, item, events);
      worst = Math.max(worst, push.exitCode);
      paths.push({ location: item.location, name: item.name, commit: commit?.sha ?? null, changed: commit?.changed ?? [], push: push.result });
    } catch (error) {
      if (!isPachaError(error) || error.exitCode === ExitCode.unreachable) throw error;
      events.failed?.(item, error);
      worst = Math.max(worst, ExitCode.partial);
      paths.push({ location: item.location, name: item.name, error: error.toJSON() });
    }
  }
  return { exitCode: worst, paths };
}

/** The lines every caller prints as commits and pushes happen; a divergence is loud. */
export function sayCommitAndPush(out: Output): Required<CommitAndPushEvents> {
  return {
    committed: (item, commit) => out.say(`committed ${item.location}: ${commit.changed.join(', ')}`),
    pushed: (tracked, result) => {
      if (result.status === 'pushed') {
        out.say(`pushed ${tracked.location}: ${result.commits} commit${result.commits === 1 ? '' : 's'} (${result.sha.slice(0, 12)})`);
      } else if (result.status === 'diverged') {
        out.error(
          `the master's history of ${tracked.location} (${tracked.name}) has diverged from this host's; nothing was forced. ` +
            `This host's history is saved on the master as ${result.ref}; commits wait here. \`pacha status\` shows how to resolve it.`,
        );
      }
    },
    failed: (item, error) => out.error(`${item.location}: ${error.message}`),
  };
}
