// `pacha push` (alias --daemon-run-once): commit every tracked path that changed, push it.
import { ExitCode, isPachaError } from '../../errors.js';
import type { Master } from '../../master/master.js';
import { pushToOtherMasters, type OtherPush } from '../../daemon/other-masters.js';
import { currentUser } from '../../store/provenance.js';
import type { CommitBy, PushResult, Store, TrackedPath } from '../../store/store.js';
import type { Context } from '../context.js';

/** Push one tracked path and say what happened; a divergence is loud and exit 4. */
export async function pushTracked(
  context: Context,
  store: Store,
  master: Master,
  tracked: TrackedPath,
): Promise<{ result: PushResult; exitCode: number }> {
  const result = await store.push(tracked, master);
  if (result.status === 'pushed') {
    context.out.say(`pushed ${tracked.location}: ${result.commits} commit${result.commits === 1 ? '' : 's'} (${result.sha.slice(0, 12)})`);
    return { result, exitCode: ExitCode.ok };
  }
  if (result.status === 'diverged') {
    context.out.error(
      `the master's history of ${tracked.location} (${tracked.name}) has diverged from this host's; nothing was forced. ` +
        `This host's history is saved on the master as ${result.ref}; commits wait here. End it with \`pacha reconcile ${tracked.location} --keep-local\` or \`--keep-master\` (\`pacha status\` shows both).`,
    );
    return { result, exitCode: ExitCode.partial };
  }
  return { result, exitCode: ExitCode.ok };
}

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

/**
 * Commit each tracked path that changed and push it. One path's failure does not stop the
 * others (exit 4); an unreachable master stops them all (exit 3, thrown).
 */
export async function commitAndPushAll(
  context: Context,
  store: Store,
  master: Master,
  items: TrackedPath[],
  by: CommitBy,
): Promise<{ exitCode: number; paths: PathOutcome[] }> {
  let worst: number = ExitCode.ok;
  const paths: PathOutcome[] = [];
  const others = await context.otherMasters();
  for (const item of items) {
    try {
      const commit = await store.commit(item, { by });
      if (commit) context.out.say(`committed ${item.location}: ${commit.changed.join(', ')}`);
      // Every master at once: a dead one answers for itself and holds up none of the others.
      const [push, elsewhere] = await Promise.all([
        pushTracked(context, store, master, item).then((p) => ({ p }), (error: unknown) => ({ error })),
        pushToOtherMasters(store, others, item),
      ]);
      const masters = elsewhere.map((o) => reportOther(context, item, o));
      if (masters.some((m) => m.error || m.push?.status === 'diverged')) worst = Math.max(worst, ExitCode.partial);
      if ('error' in push) throw push.error;
      worst = Math.max(worst, push.p.exitCode);
      paths.push({ location: item.location, name: item.name, commit: commit?.sha ?? null, changed: commit?.changed ?? [], push: push.p.result, ...(masters.length ? { masters } : {}) });
    } catch (error) {
      if (!isPachaError(error) || error.exitCode === ExitCode.unreachable) throw error;
      context.out.error(`${item.location}: ${error.message}`);
      worst = Math.max(worst, ExitCode.partial);
      paths.push({ location: item.location, name: item.name, error: error.toJSON() });
    }
  }
  return { exitCode: worst, paths };
}

/** What one other master answered, said once. */
function reportOther(context: Context, item: TrackedPath, o: OtherPush): NonNullable<PathOutcome['masters']>[number] {
  if (o.error !== undefined) {
    context.out.error(`push of ${item.location} to ${o.master} failed: ${isPachaError(o.error) ? o.error.message : String(o.error)}; the other masters are not held up`);
    return { master: o.master, error: isPachaError(o.error) ? o.error.toJSON() : { message: String(o.error) } };
  }
  if (o.result?.status === 'pushed') context.out.say(`pushed ${item.location} to ${o.master}: ${o.result.commits} commit${o.result.commits === 1 ? '' : 's'} (${o.result.sha.slice(0, 12)})`);
  if (o.result?.status === 'diverged') context.out.error(`${o.master}'s history of ${item.location} has diverged from this host's; nothing was forced (this host's history is there as ${o.result.ref})`);
  return { master: o.master, ...(o.result ? { push: o.result } : {}) };
}

export async function pushCommand(context: Context): Promise<number> {
  const store = await context.store();
  const tracked = await store.list();
  if (tracked.length === 0) {
    context.out.say('nothing is tracked; nothing to push');
    context.out.result({ ok: true, paths: [] });
    return 0;
  }
  const { exitCode, paths } = await commitAndPushAll(context, store, await context.master(), tracked, { origin: 'push', user: currentUser() });
  context.out.result({ ok: exitCode === 0, paths });
  return exitCode;
}
