// What a failed `git push` means, from git's and ssh's own words. Pure.

export type PushFailureKind = 'refused' | 'key' | 'non-fast-forward' | 'unreachable' | 'host-key' | 'rejected' | 'dropped' | 'other';

export interface PushFailure {
  kind: PushFailureKind;
  /** The most telling line of git's output, for the error message. */
  summary: string;
}

const PATTERNS: Array<[PushFailureKind, RegExp]> = [
  // The master's gate refused the request (master/gate/protocol.ts, REFUSED_PREFIX).
  ['refused', /^pacha serve: refused: /],
  // OpenSSH would not use the key: its own words, which name the file and its mode.
  ['key', /Permissions 0\d+ for '.*' are too open|UNPROTECTED PRIVATE KEY FILE|Load key .*: (invalid format|bad permissions|incorrect passphrase)|no such identity/i],
  ['host-key', /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i],
  ['unreachable', /ES3UNAVAILABLE|Connection refused|Connection timed out|Could not resolve hostname|No route to host|Network is unreachable|Connection closed by|Permission denied \(publickey|port \d+: Operation timed out|kex_exchange_identification/i],
  ['non-fast-forward', /\[rejected\].*\((non-fast-forward|fetch first)\)|non-fast-forward|Updates were rejected because the (tip|remote)/i],
  ['rejected', /\[remote rejected\]|! \[rejected\]/],
  // The connection died under the push (a kept OpenSSH connection whose server was restarted,
  // a dropped session): nothing is wrong with the master's repository; a new connection may work.
  // (Not "the remote end hung up unexpectedly" alone: git says it too when receive-pack is missing.)
  ['dropped', /error in sideband demultiplexer|mux_client_|Connection reset by peer|Broken pipe/i],
];

/**
 * Whether a failed push is worth one more try at once, on a new connection: a connection that
 * died ('dropped'), or git's bare "the remote end hung up unexpectedly" with nothing more telling
 * (a kept connection whose session died says only that; a missing receive-pack fails again, and
 * is then reported as before).
 */
export function worthRetryingAtOnce(output: string): boolean {
  const { kind } = classifyPushFailure(output);
  return kind === 'dropped' || (kind === 'other' && /the remote end hung up unexpectedly/i.test(output));
}

export function classifyPushFailure(output: string): PushFailure {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  for (const [kind, pattern] of PATTERNS) {
    // Every line that says it (OpenSSH's banner included, without its '@'s), once each.
    const said = [...new Set(lines.filter((l) => pattern.test(l)).map((l) => l.replace(/^@+\s*|\s*@+$/g, '')))];
    if (said.length > 0) return { kind, summary: said.join('; ') };
  }
  return { kind: 'other', summary: lines.find((l) => /^(fatal|error):/.test(l)) ?? lines.at(-1) ?? 'unknown error' };
}

/**
 * refs/pacha/diverged/<host>/<fork>: where a rejected history is kept on the master. <fork>
 * is the first commit of this host's history that the master lacks (the first after the
 * last pushed commit, or the root when nothing was ever pushed): the same for as long as
 * this history keeps diverging, so every retry updates one ref in place (a fast-forward:
 * the local branch only grows), and a second host with the same name gets its own. Pure.
 */
export function divergedRef(host: string, forkSha: string): string {
  return `refs/pacha/diverged/${host}/${forkSha.slice(0, 12)}`;
}

/** What to do about a divergence, for `pacha status` and the logs. Pure. */
export function divergenceSteps(options: { masterDir: string; ref: string; location: string; name: string }): string[] {
  const { masterDir, ref, location, name } = options;
  return [
    `on the master, in ${masterDir}: compare the two histories: git log --oneline main..${ref} (this host's) and git log --oneline ${ref}..main (the master's)`,
    `to keep this host's files on top of the master's history: \`pacha reconcile ${location} --keep-local\` (a merge commit, pushed normally)`,
    `to keep the master's instead: \`pacha reconcile ${location} --keep-master\` (this host's files and history are kept in backups and listed)`,
    `either removes ${ref} from the master. By hand instead: there, git branch saved-main main && git reset --keep ${ref}, then \`pacha push\` here, then git update-ref -d ${ref} (or \`pacha unwatch ${location}\` and \`pacha rebuild --directory ${name}\` here)`,
  ];
}
