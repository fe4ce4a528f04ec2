// `pacha push` (alias --daemon-run-once): commit every tracked path that changed, push it.
import type { Master } from '../../master/master.js';
import { commitAndPushAll, pushTrackedEverywhere, sayCommitAndPush } from '../../store/commit-and-push.js';
import { currentUser } from '../../store/provenance.js';
import type { PushResult, Store, TrackedPath } from '../../store/store.js';
import type { Context } from '../../context.js';

/**
 * Push one tracked path to every master of pacha.host (`watch`, `rollback`) and say what
 * happened; a divergence, or another master that failed, is loud and exit 4.
 */
export async function pushTracked(
  context: Context,
  store: Store,
  master: Master,
  tracked: TrackedPath,
): Promise<{ result: PushResult; exitCode: number; masters: Array<{ master: string }> }> {
  return pushTrackedEverywhere(store, master, await context.otherMasters(), tracked, sayCommitAndPush(context.out));
}

export async function pushCommand(context: Context): Promise<number> {
  const store = await context.store();
  const tracked = await store.list();
  if (tracked.length === 0) {
    context.out.say('nothing is tracked; nothing to push');
    context.out.result({ ok: true, paths: [] });
    return 0;
  }
  const by = { origin: 'push', user: currentUser() } as const;
  const { exitCode, paths } = await commitAndPushAll(store, await context.master(), tracked, by, sayCommitAndPush(context.out), await context.otherMasters());
  context.out.result({ ok: exitCode === 0, paths });
  return exitCode;
}
