// The one environment pacha hands the programs it runs (git, sh, ssh, ssh-keygen, hooks,
// getent, mknod): PATH and HOME only, built from scratch, so no secret (PACHA_SSH_*, AWS_*,
// SSM values) and no stray GIT_* variable from the caller's environment reaches them.
// Callers add what their program needs (LANG=C, GIT_DIR, PACHA_HOST …).
import os from 'node:os';

/** When pacha's own PATH is empty or unset (a bare systemd unit): where Debian keeps programs. */
export const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function minimalEnv(
  overrides: { path?: string | undefined; home?: string | undefined } = {},
  parent: NodeJS.ProcessEnv = process.env,
): { PATH: string; HOME: string } {
  return { PATH: overrides.path ?? (parent.PATH || FALLBACK_PATH), HOME: overrides.home ?? (parent.HOME || os.homedir()) };
}
