// `pacha reconcile PATH --keep-master | --keep-local`: the way out of a divergence
// (src/reconcile/reconcile.ts does the work). Says what was kept where; --json for scripts.
import { ExitCode, UsageError } from '../../errors.js';
import { reconcile, type ReconcileResult } from '../../reconcile/reconcile.js';
import { pushToOtherMasters, sayCommitAndPush } from '../../store/commit-and-push.js';
import { currentUser } from '../../store/provenance.js';
import type { Context } from '../../context.js';

export interface ReconcileCommandOptions {
  keepMaster?: boolean;
  keepLocal?: boolean;
}

export async function reconcileCommand(context: Context, target: string, options: ReconcileCommandOptions): Promise<number> {
  if (Boolean(options.keepMaster) === Boolean(options.keepLocal)) {
    throw new UsageError('pacha reconcile needs exactly one of --keep-master and --keep-local', {
      hint: "--keep-local puts this host's files on top of the master's history; --keep-master adopts the master's (this host's files are backed up)",
    });
  }
  const store = await context.store();
  const tracked = await store.find(target);
  if (!tracked) throw new UsageError(`${target} is not tracked`, { hint: '`pacha status` lists the tracked paths' });
  const result = await reconcile({
    store,
    master: await context.master(),
    tracked,
    keep: options.keepLocal ? 'local' : 'master',
    stateDir: context.stateDir,
    hooksTimeoutSeconds: context.settings.require('pacha.hooks.timeout'),
    by: { user: currentUser() },
  });
  for (const line of describe(result)) context.out.say(line);
  // Several masters: the reconciled history goes to the others too. After --keep-local the
  // merge contains what another master had of this host's history (a fast-forward); after
  // --keep-master another master that holds this host's old history diverges, loudly, and
  // keeps that history as a diverged ref: nothing there is forced.
  const elsewhere = await pushToOtherMasters(store, await context.otherMasters(), tracked);
  const say = sayCommitAndPush(context.out);
  for (const o of elsewhere) say.pushedElsewhere(tracked, o);
  const others = elsewhere.map((o) => ({ master: o.master, ...(o.result ? { push: o.result } : {}), ...(o.error !== undefined ? { error: String(o.error instanceof Error ? o.error.message : o.error) } : {}) }));
  const ok = elsewhere.every((o) => o.error === undefined && o.result?.status !== 'diverged');
  context.out.result({ ok, ...result, ...(others.length ? { masters: others } : {}) });
  return ok ? ExitCode.ok : ExitCode.partial;
}

function describe(r: ReconcileResult): string[] {
  const short = (sha: string | null): string => (sha ? sha.slice(0, 12) : 'none');
  const lines: string[] = [];
  if (r.relation === 'same') lines.push(`${r.location}: this host and the master agree (${short(r.head)}); nothing to reconcile`);
  else if (r.keep === 'local') lines.push(`${r.location}: kept this host's files on top of the master's history: ${short(r.head)} (master was ${short(r.masterHead)}, this host ${short(r.local)})${r.push?.status === 'pushed' ? ', pushed' : ''}`);
  else lines.push(`${r.location}: adopted the master's history: ${short(r.head)} (this host was ${short(r.local)})`);
  if (r.differences.length > 0) lines.push(`  files that differed: ${r.differences.join(', ')}`);
  if (r.bundle) lines.push(`  this host's history: ${r.bundle} (git bundle), and ${r.discardedRef} on the master`);
  if (r.movedAside.length > 0) lines.push(`  files the master lacks, moved to ${r.backupDir}: ${r.movedAside.join(', ')}`);
  if (r.backupDir && r.keep === 'master') lines.push(`  displaced files are kept under ${r.backupDir}`);
  if (r.removedRefs.length > 0) lines.push(`  removed from the master: ${r.removedRefs.join(', ')}`);
  return lines;
}
