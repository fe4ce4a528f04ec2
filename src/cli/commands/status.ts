// `pacha status`: what is tracked, the last commit, what waits for the master, and whether
// the master has it. Works with the master down: status is what you read when things fail.
import { isPachaError } from '../../errors.js';
import type { Context } from '../context.js';

export async function statusCommand(context: Context): Promise<number> {
  const store = await context.store();
  const tracked = await store.list();
  const host = context.hostName();
  let onMaster: Set<string> | undefined;
  let masterError: string | undefined;
  if (tracked.length > 0) {
    try {
      const listing = await (await context.master()).describeHost(host);
      onMaster = new Set(listing?.repositories ?? []);
    } catch (error) {
      if (!isPachaError(error)) throw error;
      masterError = error.message;
    }
  }
  const paths = [];
  for (const item of tracked) {
    const git = store.git(item);
    const head = await store.head(item);
    const last = head ? (await git.raw(['log', '-1', '--format=%H%x00%cI%x00%s', head])).trim().split('\0') : undefined;
    paths.push({
      location: item.location,
      name: item.name,
      single: item.single,
      lastCommit: last ? { sha: last[0], time: last[1], subject: last[2] } : null,
      unpushed: await store.unpushed(item),
      onMaster: onMaster ? onMaster.has(item.name) : null,
    });
  }
  context.out.say(`host ${host}, state ${context.stateDir}`);
  if (masterError) context.out.say(`master: unreachable (${masterError})`);
  if (paths.length === 0) context.out.say('nothing is tracked (pacha watch PATH starts tracking)');
  for (const p of paths) {
    const commit = p.lastCommit ? `${p.lastCommit.sha?.slice(0, 12)} ${p.lastCommit.time} ${p.lastCommit.subject}` : 'no commit yet';
    const master = p.onMaster === null ? '' : p.onMaster ? ', on the master' : ', NOT on the master';
    context.out.say(`${p.location} (${p.name}): ${commit}; ${p.unpushed} waiting${master}`);
  }
  context.out.result({ host, stateDir: context.stateDir, master: masterError ? { error: masterError } : { ok: true }, paths });
  return 0;
}
