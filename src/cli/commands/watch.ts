// `pacha watch PATH…`, `pacha watch --single FILE`, `pacha unwatch PATH`, `pacha forget PATH`.
import { UsageError } from '../../errors.js';
import type { CommitResult } from '../../store/commit.js';
import { currentUser } from '../../store/provenance.js';
import type { Context } from '../../context.js';
import { pushTracked } from './push.js';

function listSome(items: readonly string[], max = 5): string {
  return items.slice(0, max).join(', ') + (items.length > max ? `, … (${items.length} in all)` : '');
}

/** What a rebuild will not restore, said when it is first recorded. */
export function sayNotRestored(context: Context, location: string, commit: CommitResult | null): void {
  if (commit && commit.skipped.length > 0) {
    context.out.warn(`${location}: not restored by a rebuild (sockets belong to the program that listens on them): ${listSome(commit.skipped)}`);
  }
  if (commit && !commit.xattrs) {
    context.out.warn(`${location}: getfattr not found: ACLs, capabilities and other extended attributes are not recorded (install the Debian package attr)`);
  }
}

export async function watchCommand(context: Context, paths: string[], options: { single?: string; ignore?: string[] }): Promise<number> {
  const ignore = options.ignore ?? [];
  const targets = [
    ...paths.map((location) => ({ location, single: false })),
    ...(options.single ? [{ location: options.single, single: true }] : []),
  ];
  if (targets.length === 0) {
    const configured = context.settings.get('pacha.watch') ?? [];
    if (configured.length === 0) throw new UsageError('nothing to watch', { hint: 'give a path (pacha watch /opt/foo) or set pacha.watch' });
    targets.push(...configured.map((location) => ({ location, single: false })));
  }
  const store = await context.store();
  const master = await context.master();
  const results = [];
  let worst = 0;
  for (const target of targets) {
    const { tracked, created, added } = await store.track(target.location, { single: target.single, ...(target.single ? {} : { ignore }) });
    if (!created) {
      if (added.length === 0) {
        context.out.say(`${tracked.location} is already tracked (as ${tracked.name}); nothing to do`);
        results.push({ location: tracked.location, name: tracked.name, created: false });
        continue;
      }
      // New patterns for a tracked path: what they match leaves the next commit, now.
      context.out.say(`${tracked.location}: now also ignoring ${added.join(' ')}`);
      const commit = await store.commit(tracked);
      if (commit) context.out.say(`committed ${tracked.location}: ${commit.changed.join(', ')} (the history keeps what left)`);
      const push = await pushTracked(context, store, master, tracked);
      worst = Math.max(worst, push.exitCode);
      results.push({ location: tracked.location, name: tracked.name, created: false, ignore: tracked.ignore ?? [], commit: commit?.sha, push: push.result, ...(push.masters.length ? { masters: push.masters } : {}) });
      continue;
    }
    let commit: CommitResult | null;
    try {
      commit = await store.commit(tracked, { by: { origin: 'watch', user: currentUser() } });
    } catch (error) {
      // Nothing recorded for a path pacha cannot hold exactly (a nested .git …): forget it again.
      await store.untrack(tracked.location, { discard: true });
      throw error;
    }
    context.out.say(`tracking ${tracked.location} as ${master.label}/${context.hostName()}/${tracked.name}`);
    if (tracked.ignore?.length) context.out.say(`  ignoring (this path): ${tracked.ignore.join(' ')}`);
    sayNotRestored(context, tracked.location, commit);
    const push = await pushTracked(context, store, master, tracked);
    worst = Math.max(worst, push.exitCode);
    results.push({ location: tracked.location, name: tracked.name, created: true, ignore: tracked.ignore ?? [], commit: commit?.sha, skipped: commit?.skipped ?? [], push: push.result, ...(push.masters.length ? { masters: push.masters } : {}) });
  }
  context.out.result({ ok: worst === 0, tracked: results });
  return worst;
}

export async function unwatchCommand(context: Context, location: string): Promise<number> {
  const store = await context.store();
  const tracked = await store.untrack(location);
  context.out.say(`stopped tracking ${tracked.location}; its history stays on the master as ${tracked.name}`);
  context.out.result({ ok: true, untracked: { location: tracked.location, name: tracked.name } });
  return 0;
}

/** `pacha forget PATH`: leave one entry of a tracked directory out from now on; its history stays. */
export async function forgetCommand(context: Context, target: string): Promise<number> {
  const store = await context.store();
  const { tracked, pattern, added } = await store.forget(target);
  context.out.say(
    added
      ? `${target} is no longer tracked (ignore pattern ${pattern} added to ${tracked.location}); the history of ${tracked.name} keeps its past versions`
      : `${target} was already left out of ${tracked.location} (${pattern})`,
  );
  const commit = await store.commit(tracked);
  if (commit) context.out.say(`committed ${tracked.location}: ${commit.changed.join(', ')}`);
  const push = await pushTracked(context, store, await context.master(), tracked);
  context.out.result({ ok: push.exitCode === 0, forgotten: { path: target, location: tracked.location, pattern, commit: commit?.sha ?? null, push: push.result, ...(push.masters.length ? { masters: push.masters } : {}) } });
  return push.exitCode;
}
