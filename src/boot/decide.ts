// `pacha boot`, step 8: what this instance does, from what it has and what the master has.
// Pure: the caller gathers the facts (local registry, the master's listing) and acts.
//
//   --force-rebuild                         → rebuild (whatever the local state)
//   local state present (a reboot)          → resume: no rebuild, push what changed while down
//   no local state, the master has the host → rebuild unattended, tracking on the same history
//   no local state, the master lacks it     → new host: track the pacha.watch paths and push
// Whatever the action, pacha.watch paths not yet tracked are tracked and pushed afterwards:
// a path added to pacha.watch for a known host must not wait for someone to notice.
import path from 'node:path';

export type BootAction = 'rebuild' | 'resume' | 'new-host';

export interface DecideInput {
  host: string;
  /** The master, for the plan ("bar_user@master:22"). */
  master: string;
  /** Locations this instance already tracks (its registry); [] on a fresh image. */
  tracked: readonly string[];
  /** The master's repositories for the host; undefined when the master has no such host. */
  onMaster: readonly string[] | undefined;
  /** pacha.watch */
  watch: readonly string[];
  forceRebuild: boolean;
  /** Whether the daemon follows (not --no-watch), for the plan's last line. */
  watchAfter: boolean;
}

export interface Decision {
  action: BootAction;
  /** Why, in one sentence. */
  reason: string;
  /** What boot will do, in order, one line each. */
  plan: string[];
  /** pacha.watch paths to start tracking (those not tracked already, and not rebuilt). */
  track: string[];
}

export function decideBoot(input: DecideInput): Decision {
  const { host, master, onMaster } = input;
  const tracked = new Set(input.tracked.map((p) => path.resolve(p)));
  const hasLocalState = tracked.size > 0;
  const repositories = onMaster ?? [];

  let action: BootAction;
  let reason: string;
  if (input.forceRebuild) {
    action = 'rebuild';
    reason = onMaster
      ? `--force-rebuild: rebuilding ${host} from ${master}${hasLocalState ? ` although ${tracked.size} path(s) are tracked here` : ''}`
      : `--force-rebuild, but ${master} has no host '${host}': the rebuild will fail`;
  } else if (hasLocalState) {
    action = 'resume';
    reason = `local state present (${tracked.size} tracked path${tracked.size === 1 ? '' : 's'}): a reboot, no rebuild`;
  } else if (onMaster) {
    action = 'rebuild';
    reason = `no local state and ${master} has ${host}: rebuilding unattended`;
  } else {
    action = 'new-host';
    reason = `no local state and ${master} has no host '${host}': a new host`;
  }

  // A rebuilt path is tracked by the rebuild itself; its location is only known from the
  // master's metadata, so a pacha.watch entry that names it is tracked (a no-op) again.
  const track = input.watch.map((p) => path.resolve(p)).filter((p, i, all) => !tracked.has(p) && all.indexOf(p) === i);

  const plan: string[] = [];
  if (action === 'rebuild') {
    plan.push(
      repositories.length > 0
        ? `rebuild ${host} from ${master}: ${repositories.join(', ')} (pre hooks, place, post hooks; no prompt)`
        : `rebuild ${host} from ${master}: no tracked paths there (hooks only)`,
    );
    plan.push("track the rebuilt paths on the master's history");
  } else if (action === 'resume') {
    plan.push(`commit and push what changed while down: ${[...tracked].join(', ')}`);
  } else {
    plan.push(`create ${host} on ${master}`);
  }
  if (track.length > 0) plan.push(`track and push pacha.watch: ${track.join(', ')}`);
  else if (action === 'new-host') plan.push('nothing to track: pacha.watch is empty (run `pacha watch PATH` later)');
  plan.push(input.watchAfter ? 'watch every tracked path and push each change (daemon)' : 'stop (--no-watch)');
  return { action, reason, plan, track };
}
