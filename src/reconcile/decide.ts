// What `pacha reconcile` finds, and the words of its commit. Pure.
import type { TrackedEntry } from '../store/registry.js';

export type Keep = 'local' | 'master';

/**
 * How this host's branch and the master's relate:
 *   same          one commit: nothing to reconcile (a stale diverged ref may still be removed)
 *   local-ahead   the master's head is in this history: a normal push (keep-local), or nothing
 *                 to adopt but the master's own head (keep-master rebuilds to it)
 *   master-ahead  this head is in the master's history: keep-master is a fast-forward
 *   diverged      each has commits the other lacks
 */
export type Relation = 'same' | 'local-ahead' | 'master-ahead' | 'diverged' | 'no-master' | 'no-local';

export function classifyRelation(input: { local: string | null; master: string | null; localInMaster: boolean; masterInLocal: boolean }): Relation {
  if (!input.master) return 'no-master';
  if (!input.local) return 'no-local';
  if (input.local === input.master) return 'same';
  if (input.masterInLocal) return 'local-ahead';
  if (input.localInMaster) return 'master-ahead';
  return 'diverged';
}

export function reconcileMessage(keep: Keep, tracked: Pick<TrackedEntry, 'location'>, masterHead: string, localHead: string): string {
  return keep === 'local'
    ? `pacha reconcile --keep-local: ${tracked.location} as on this host, on top of the master's history\n\nmaster ${masterHead.slice(0, 12)}, this host ${localHead.slice(0, 12)}`
    : `pacha reconcile --keep-master: ${tracked.location} as on the master`;
}
