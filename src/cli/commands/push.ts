// `pacha push` (alias --daemon-run-once): commit every tracked path that changed, push it.
import { ExitCode, isPachaError } from '../../errors.js';
import type { Master } from '../../master/master.js';
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
  for (const item of items) {
    try {
      const commit = await store.commit(item, { by });
      if (commit) context.out.say(`committed ${item.location}: ${commit.changed.join(', ')}`);
      const push = await pushTracked(context, store, master, item);
      worst = Math.max(worst, push.exitCode);
      paths.push({ location: item.location, name: item.name, commit: commit?.sha ?? null, changed: commit?.changed ?? [], push: push.result });
    } catch (error) {
      if (!isPachaError(error) || error.exitCode === ExitCode.unreachable) throw error;
      context.out.error(`${item.location}: ${error.message}`);
      worst = Math.max(worst, ExitCode.partial);
      paths.push({ location: item.location, name: item.name, error: error.toJSON() });
    }
  }
  return { exitCode: worst, paths };
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
