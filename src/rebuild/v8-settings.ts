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
import { setV8Flags } from '../v8-flags.js';

/** V8 flags for a process that rebuilds; each exists in node 20 and 22 (test/system/rebuild/v8-settings.test.ts). */
export const REBUILD_V8_FLAGS = ['--no-opt'] as const;

/** Set REBUILD_V8_FLAGS in this process (from then on, for the whole process). */
export function rebuildV8Settings(): void {
  setV8Flags(REBUILD_V8_FLAGS);
}
