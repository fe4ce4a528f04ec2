// The daemon's own memory (issue 14, target 5: RSS ≤ 60 MiB at 10k files, ≤ 100 MiB at 50k).
//
// Two things, both set from inside the process, so a daemon started by hand gets them as
// well as the one systemd starts (whose NODE_OPTIONS add --max-semi-space-size=1 from the start):
// - V8 settings for a long-lived, mostly idle process (daemonHeapSettings): the young
//   generation stays at its first size (1 MiB a semi-space) instead of doubling under a
//   burst of allocations and keeping the pages, and no optimizing compiler: its compiled code
//   and its compiler's scratch memory cost more RSS than its speed is worth here, where the
//   heavy work is git, hashing and zlib (native). Measured with the units' option: at 10k
//   files about -4 MiB for the first and -8 to -10 MiB for the second, no more CPU for the
//   edits; at 50k, -6 MiB for the second, the edits' CPU the same, and the full commit at
//   the start about 1 CPU-s (25 %) dearer (bench/cost-per-change.bench.ts; the periodic walk
//   of bench/idle.bench.ts costs the same: 0.43 CPU-s at 10k files, 0.42 before).
// - One full garbage collection a moment after a full commit (releaseAfterFullCommit): the
//   daemon's start, the hourly full reconcile and a change too big for the kept snapshot
//   build every entry's metadata, git's listings and the metadata text at once; V8's old
//   space grows to hold them and keeps the pages long after they are garbage (at 10k files:
//   21.5 MiB of old space holding 13.5 MiB; at 50k, 214 MiB RSS after the start against 136
//   with the collection). The kept snapshot's metadata blocks are encoded between it and a
//   second collection, which takes the lines they replace (the store's settleSnapshots).
//   node gives no collector without --expose-gc: the flag is set at
//   run time and read when a context is made, so the function comes from a new context (the
//   global scope gets no `gc`).
import v8 from 'node:v8';
import vm from 'node:vm';
import { setV8Flags } from '../v8-flags.js';

/** V8 flags the daemon sets for itself; each exists in node 20 and 22 (test/system/daemon/memory.test.ts). */
export const DAEMON_V8_FLAGS = ['--semi-space-growth-factor=1', '--no-opt'] as const;

/** Set DAEMON_V8_FLAGS in this process (once; from then on, for the whole process). */
export function daemonHeapSettings(): void {
  setV8Flags(DAEMON_V8_FLAGS);
}

/** How long after a full commit the collection runs: full commits of several paths share one. */
export const RELEASE_DELAY_MS = 1000;

let collector: (() => void) | null | undefined;

/** V8's full collection, or null where it cannot be had (then nothing is done). */
export function fullCollection(): (() => void) | null {
  if (collector !== undefined) return collector;
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return (collector = exposed);
  try {
    v8.setFlagsFromString('--expose-gc');
    const fromContext: unknown = vm.runInNewContext('gc');
    collector = typeof fromContext === 'function' ? (fromContext as () => void) : null;
  } catch {
    collector = null;
  }
  return collector;
}

let timer: NodeJS.Timeout | undefined;

/** What holds memory to settle once a full commit's garbage is gone: the store (its snapshots' metadata blocks). */
export interface Settles {
  settleSnapshots(): void;
}

const toSettle = new Set<Settles>();

/**
 * After a full commit: one full collection RELEASE_DELAY_MS later (the commit's garbage
 * unreachable by then). Then `owner` settles (the kept snapshot's metadata blocks are
 * encoded into the memory the collection freed, not beside the garbage) and a second
 * collection takes the lines they replace: at 50k files, about 10 MiB an idle daemon kept
 * until its first edit.
 */
export function releaseAfterFullCommit(owner?: Settles): void {
  if (owner) toSettle.add(owner);
  if (timer) return;
  timer = setTimeout(() => {
    timer = undefined;
    const collect = fullCollection();
    collect?.();
    if (toSettle.size === 0) return;
    for (const settling of toSettle) settling.settleSnapshots();
    toSettle.clear();
    collect?.();
  }, RELEASE_DELAY_MS);
  timer.unref();
}
