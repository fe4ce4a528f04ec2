// V8 settings a command sets for its own process, at run time (v8.setFlagsFromString): a
// daemon or a rebuild started by hand gets them as well as one started by systemd or boot.
// A flag set this way holds from then on, for the whole process, for code compiled after it.
// Who sets what, and why: daemon/memory.ts (DAEMON_V8_FLAGS), rebuild/v8-settings.ts (REBUILD_V8_FLAGS).
import v8 from 'node:v8';

/** What each flag was last set to here, by name: `--no-opt` and `--opt` are one flag, `opt`. */
const applied = new Map<string, string>();

/** A flag's name and value: `--no-opt` → ['opt', 'false'], `--semi-space-growth-factor=1` → [..., '1']. Pure. */
export function flagSetting(flag: string): [name: string, value: string] {
  const [written, value] = flag.replace(/^--/, '').split(/=(.*)/s) as [string, string | undefined];
  const name = written.replace(/_/g, '-'); // V8 reads - and _ in a flag's name alike
  if (value !== undefined) return [name, value];
  return name.startsWith('no-') ? [name.slice(3), 'false'] : [name, 'true'];
}

/** Set each of `flags` in this process (from then on, for the whole process); a flag already at that value is left alone. */
export function setV8Flags(flags: readonly string[]): void {
  for (const flag of flags) {
    const [name, value] = flagSetting(flag);
    if (applied.get(name) === value) continue;
    applied.set(name, value);
    v8.setFlagsFromString(flag);
  }
}
