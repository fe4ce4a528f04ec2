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
  /** The other masters of pacha.host, each its own answer. */
  masters?: Array<{ master: string; push?: PushResult; error?: Record<string, unknown> }>;
  error?: Record<string, unknown>;
}

/** A master after the first of pacha.host. */
export interface OtherMaster {
  /** masterId of its pacha.host entry: names its acknowledged ref. */
  id: string;
  master: Master;
}

/** What one other master answered to a push. */
export interface OtherPush {
  master: string;
  result?: PushResult;
  error?: unknown;
}

export interface CommitAndPushEvents {
  committed?(item: TrackedPath, commit: CommitResult): void;
  pushed?(item: TrackedPath, result: PushResult): void;
  failed?(item: TrackedPath, error: PachaError): void;
  /** Another master of the list answered (pushed, diverged or failed). */
  pushedElsewhere?(item: TrackedPath, other: OtherPush): void;
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

/** One push of a path to every other master, all at once: each answers for itself. */
export async function pushToOtherMasters(store: Store, masters: readonly OtherMaster[], tracked: TrackedPath): Promise<OtherPush[]> {
  return Promise.all(
    masters.map(({ id, master }) =>
      store.push(tracked, master, id).then(
        (result): OtherPush => ({ master: master.label, result }),
        (error: unknown): OtherPush => ({ master: master.label, error }),
      ),
    ),
  );
}

/** One path to the primary and to every other master at once; nothing thrown (each answers for itself). */
async function pushAtOnce(
  store: Store,
  master: Master,
  others: readonly OtherMaster[],
  tracked: TrackedPath,
  events: CommitAndPushEvents,
): Promise<{ primary: { p: { result: PushResult; exitCode: ExitCode } } | { error: unknown }; elsewhere: OtherPush[] }> {
  const [primary, elsewhere] = await Promise.all([
    pushTracked(store, master, tracked, events).then((p) => ({ p }), (error: unknown) => ({ error })),
    pushToOtherMasters(store, others, tracked),
  ]);
  for (const o of elsewhere) events.pushedElsewhere?.(tracked, o);
  return { primary, elsewhere };
}

/** Another master failed or diverged: exit 4 (nothing forced; it catches up later). Pure. */
function othersFailed(elsewhere: readonly OtherPush[]): boolean {
  return elsewhere.some((o) => o.error !== undefined || o.result?.status === 'diverged');
}

/**
 * Push one tracked path to the primary and to every other master at once (what `pacha watch`,
 * `rollback` and every other single-path push do): the primary's failure is thrown as before;
 * another master's failure or divergence is said through `events` and makes it exit 4.
 */
export async function pushTrackedEverywhere(
  store: Store,
  master: Master,
  others: readonly OtherMaster[],
  tracked: TrackedPath,
  events: CommitAndPushEvents = {},
): Promise<{ result: PushResult; exitCode: ExitCode; masters: NonNullable<PathOutcome['masters']> }> {
  const { primary, elsewhere } = await pushAtOnce(store, master, others, tracked, events);
  if ('error' in primary) throw primary.error;
  const exitCode = othersFailed(elsewhere) ? ExitCode.partial : primary.p.exitCode;
  return { result: primary.p.result, exitCode, masters: elsewhere.map(otherOutcome) };
}

function otherOutcome(o: OtherPush): NonNullable<PathOutcome['masters']>[number] {
  if (o.error !== undefined) return { master: o.master, error: isPachaError(o.error) ? o.error.toJSON() : { message: String(o.error) } };
  return { master: o.master, ...(o.result ? { push: o.result } : {}) };
}

/**
 * Commit each tracked path that changed and push it, to the primary and to every other
 * master at once (a dead one holds up none of the others; its failure is exit 4). One path's
 * failure does not stop the others (exit 4); an unreachable primary stops them all (exit 3, thrown).
 */
export async function commitAndPushAll(
  store: Store,
  master: Master,
  items: readonly TrackedPath[],
  by: CommitBy,
  events: CommitAndPushEvents = {},
  others: readonly OtherMaster[] = [],
  options: { primaryMayBeDown?: boolean } = {},
): Promise<{ exitCode: number; paths: PathOutcome[] }> {
  let worst: number = ExitCode.ok;
  const paths: PathOutcome[] = [];
  for (const item of items) {
    let elsewhere: OtherPush[] = [];
    try {
      const commit = await store.commit(item, { by });
      if (commit) events.committed?.(item, commit);
      const answered = await pushAtOnce(store, master, others, item, events);
      elsewhere = answered.elsewhere;
      if (othersFailed(elsewhere)) worst = Math.max(worst, ExitCode.partial);
      if ('error' in answered.primary) throw answered.primary.error;
      const push = answered.primary;
      worst = Math.max(worst, push.p.exitCode);
      const masters = elsewhere.map(otherOutcome);
      paths.push({ location: item.location, name: item.name, commit: commit?.sha ?? null, changed: commit?.changed ?? [], push: push.p.result, ...(masters.length ? { masters } : {}) });
    } catch (error) {
      // Boot with several masters: a dead first master is one failure among the masters when
      // another took the commits (exit 4; its acknowledged ref stays, the daemon catches it up).
      const tookIt = elsewhere.some((o) => o.result !== undefined && o.result.status !== 'diverged');
      const tolerated = options.primaryMayBeDown === true && tookIt;
      if (!isPachaError(error) || (error.exitCode === ExitCode.unreachable && !tolerated)) throw error;
      events.failed?.(item, error);
      worst = Math.max(worst, ExitCode.partial);
      const masters = elsewhere.map(otherOutcome);
      paths.push({ location: item.location, name: item.name, error: error.toJSON(), ...(masters.length ? { masters } : {}) });
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
            `This host's history is saved on the master as ${result.ref}; commits wait here. End it with \`pacha reconcile ${tracked.location} --keep-local\` or \`--keep-master\` (\`pacha status\` shows both).`,
        );
      }
    },
    failed: (item, error) => out.error(`${item.location}: ${error.message}`),
    pushedElsewhere: (item, o) => {
      if (o.error !== undefined) {
        out.error(`push of ${item.location} to ${o.master} failed: ${isPachaError(o.error) ? o.error.message : String(o.error)}; the other masters are not held up`);
      } else if (o.result?.status === 'pushed') {
        out.say(`pushed ${item.location} to ${o.master}: ${o.result.commits} commit${o.result.commits === 1 ? '' : 's'} (${o.result.sha.slice(0, 12)})`);
      } else if (o.result?.status === 'diverged') {
        out.error(`${o.master}'s history of ${item.location} has diverged from this host's; nothing was forced (this host's history is there as ${o.result.ref})`);
      }
    },
  };
}
