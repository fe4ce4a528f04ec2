// The environment pacha hands git, sh and ssh: PATH and HOME only, so no secret and no stray
// GIT_* variable from the caller's environment reaches them.
import os from 'node:os';

export const FALLBACK_PATH = '/usr/local/bin:/usr/bin:/bin';

export function minimalEnv(overrides: { path?: string | undefined; home?: string | undefined } = {}): { PATH: string; HOME: string } {
  return { PATH: overrides.path ?? process.env.PATH ?? FALLBACK_PATH, HOME: overrides.home ?? os.homedir() };
}
