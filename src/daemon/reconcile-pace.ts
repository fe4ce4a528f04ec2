// When the daemon's next periodic reconcile runs. Pure: times are numbers (ms), no clock.
//
// The periodic reconcile (a walk of every tracked path, store.commit) commits what inotify
// missed. While inotify misses nothing it finds nothing, and on a 10k-file tree each walk
// costs about half a CPU-second: at pacha.frequency = 60 s that alone was an idle daemon's
// CPU (issue 14: ≤ 0.1 CPU-s per 60 s idle). So the period stretches while the reconciles
// come back empty, and snaps back to pacha.frequency the moment one is not:
// - a reconcile that committed a change no event had reported (inotify missed it), a watcher
//   that is degraded (no inotify: the reconcile is the only thing that sees changes), or one
//   that suspected a lost event queue ('rescan'): the next reconcile in pacha.frequency;
// - otherwise each empty reconcile doubles the period, up to MAX_STRETCH × pacha.frequency
//   (8 minutes at the default 60 s), so a missed change on a healthy watcher is committed
//   within that bound and the walk's cost is spread over it.

/** The longest period, as a multiple of pacha.frequency. */
export const MAX_STRETCH = 8;

export interface ReconcileOutcome {
  /** A reconcile committed something that no filesystem event had reported. */
  missed: boolean;
  /** Some tracked path has no working watcher (degraded, or a suspected lost queue). */
  unwatched: boolean;
}

/** The period after the one that just ended (`previousMs`), given what its reconcile found. */
export function nextReconcilePeriod(frequencyMs: number, previousMs: number | undefined, outcome: ReconcileOutcome): number {
  if (previousMs === undefined || outcome.missed || outcome.unwatched) return frequencyMs;
  return Math.min(Math.max(previousMs, frequencyMs) * 2, frequencyMs * MAX_STRETCH);
}
