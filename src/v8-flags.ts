// V8 settings a command sets for its own process, at run time (v8.setFlagsFromString): a
// daemon or a rebuild started by hand gets them as well as one started by systemd or boot.
// A flag set this way holds from then on, for the whole process, for code compiled after it.
// Who sets what, and why: daemon/memory.ts (DAEMON_V8_FLAGS), rebuild/v8-settings.ts (REBUILD_V8_FLAGS).
import v8 from 'node:v8';

const applied = new Set<string>();

/** Set each of `flags` in this process (each once; from then on, for the whole process). */
export function setV8Flags(flags: readonly string[]): void {
  for (const flag of flags) {
    if (applied.has(flag)) continue;
    applied.add(flag);
    v8.setFlagsFromString(flag);
  }
}
