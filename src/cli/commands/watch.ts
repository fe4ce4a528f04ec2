// `pacha watch PATH…`, `pacha watch --single FILE`, `pacha unwatch PATH`.
import { UsageError } from '../../errors.js';
import { currentUser } from '../../store/provenance.js';
import type { Context } from '../context.js';
import { pushTracked } from './push.js';

export async function watchCommand(context: Context, paths: string[], options: { single?: string }): Promise<number> {
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
    const { tracked, created } = await store.track(target.location, { single: target.single });
    if (!created) {
      context.out.say(`${tracked.location} is already tracked (as ${tracked.name}); nothing to do`);
      results.push({ location: tracked.location, name: tracked.name, created: false });
      continue;
    }
    const commit = await store.commit(tracked, { by: { origin: 'watch', user: currentUser() } });
    context.out.say(`tracking ${tracked.location} as ${master.label}/${context.hostName()}/${tracked.name}`);
    const push = await pushTracked(context, store, master, tracked);
    worst = Math.max(worst, push.exitCode);
    results.push({ location: tracked.location, name: tracked.name, created: true, commit: commit?.sha, push: push.result });
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
