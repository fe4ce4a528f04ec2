// The rebuild's V8 settings (issue 14, target 4: rebuild ≤ 1.0× git clone + cp -a, also on a
// loaded machine, where CPU is what counts). A rebuild is one short run whose heavy work is
// git, zlib, hashing and the file system (native); its JavaScript runs a few thousand
// times per file at most. The optimizing compiler compiles hot functions on a background
// thread (about 1.4 CPU-s of a 5k-file rebuild) and mostly finishes after the work it
// would have sped up. Off, set at the command's start: at 5k files the rebuild's own node
// took 3.3-3.7 CPU-s instead of 4.0-4.1 (three runs each, alternating with main's build,
// load ~6). The price: JavaScript that runs per path is interpreted, so such loops are
// left to native code (fs/names.ts hasEscape). Set by the process that runs the rebuild
// (the command, boot) through v8-flags.ts, as the daemon sets its own.
//
// On a large tree the compiler pays for itself: its cost is per function, once; the
// interpreted loops' cost is per entry. bench/rebuild.bench.ts, optimizer off for the whole
// run against on for the whole run (3-5 rounds each, alternating, load 1.6-2.2): 5k files on
// tmpfs 1.84 s against 1.94 (CPU 2.17 against 2.62 s), 20k 2.95 s against 3.08 (CPU 3.68
// against 4.21), 50k 5.40 s against 4.59 (CPU 6.95 against 6.39). So once the repositories
// staged in this run hold OPTIMIZE_FROM_ENTRIES entries, it is turned back on (stagedEntries):
// planning and placing, the per-entry work, then run compiled.
import { setV8Flags } from '../v8-flags.js';

/** V8 flags for a process that rebuilds; each exists in node 20 and 22 (test/system/rebuild/v8-settings.test.ts). */
export const REBUILD_V8_FLAGS = ['--no-opt'] as const;

/** Entries staged in one run past which the optimizing compiler pays (see above). */
export const OPTIMIZE_FROM_ENTRIES = 30_000;

let settingsApplied = false;
let staged = 0;

/** Set REBUILD_V8_FLAGS in this process (from then on, for the whole process). */
export function rebuildV8Settings(): void {
  settingsApplied = true;
  staged = 0;
  setV8Flags(REBUILD_V8_FLAGS);
}

/** Whether a run that staged `entries` entries so far should have the optimizing compiler. Pure. */
export function optimizerPays(entries: number): boolean {
  return entries >= OPTIMIZE_FROM_ENTRIES;
}

/**
 * A repository of `entries` entries was staged: once the run's total reaches
 * OPTIMIZE_FROM_ENTRIES, the optimizing compiler is on again. Only where rebuildV8Settings
 * turned it off: a rebuild inside another command (tests, the demo) is left as it runs.
 */
export function stagedEntries(entries: number): void {
  if (!settingsApplied) return;
  staged += entries;
  if (optimizerPays(staged)) setV8Flags(['--opt']);
}
