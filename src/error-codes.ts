// The closed catalogue of pacha's error codes: one row a code, with the exit status it
// gives and what it means in one line. PachaError takes its exit status from here; the
// README's exit-code section is generated from here (a test keeps them equal).
// Adding a code is adding one row.

/** pacha's exit statuses. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  partial: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What each exit status means, for the README. */
export const EXIT_MEANINGS: Record<ExitCode, string> = {
  0: 'done',
  1: 'failed (a pre hook failed, an unsafe repository refused, a push rejected by the master); `pacha fleet`: a host is not ok',
  2: 'usage or configuration error (bad value, unknown command, rebuild without `--yes` and no terminal, a second daemon)',
  3: 'master unreachable, or its host key refused; at boot also SSM or the metadata service unreachable or throttling until `pacha.boot.timeout`; nothing touched',
  4: 'completed with failures: a post hook failed, an owner could not be restored by name, a repository outside `pacha.watch` not restored, a history diverged',
};

interface CodeSpec {
  exit: ExitCode;
  meaning: string;
}

const usage = ExitCode.usage;
const failed = ExitCode.failed;
const unreachable = ExitCode.unreachable;

export const ERROR_CODES = {
  // 2: the command line or the configuration is wrong; nothing was touched.
  EUSAGE: { exit: usage, meaning: 'the command line is wrong: an unknown option, a missing argument, a path that cannot be tracked' },
  ECONFIG: { exit: usage, meaning: 'the configuration cannot be used (a file that cannot be read, a host name that is not valid)' },
  EBADVALUE: { exit: usage, meaning: 'a configuration value is not valid for its key' },
  EBADLINE: { exit: usage, meaning: 'a config file line is neither `key = value`, a [section] nor a comment' },
  EMISSINGKEY: { exit: usage, meaning: 'a key the command needs has no value' },
  ENOCONFIG: { exit: usage, meaning: 'no config file, and nothing else says where the master is' },
  EBADPATH: { exit: usage, meaning: 'a file name OpenSSH cannot be given (a quote, a backslash or a line break in it)' },
  ESSHKEY: { exit: usage, meaning: 'the private key file may be read by others: OpenSSH would refuse it' },
  ENOKEY: { exit: usage, meaning: 'the private key file named cannot be read' },
  EBADKEY: { exit: usage, meaning: 'a private key, or the master host key given, is not a valid key' },
  ENOKNOWNHOSTS: { exit: usage, meaning: 'pacha.ssh.known_hosts names a file that does not exist' },
  EGATED: { exit: usage, meaning: "the master's account is a gate (`pacha serve`), which does not allow this" },
  EHOSTSPATH: { exit: usage, meaning: "pacha.hosts.path is not where the master's gate keeps the hosts" },
  ENOHOSTNAME: { exit: usage, meaning: 'no host name: every identity source is empty' },
  EBADHOSTNAME: { exit: usage, meaning: 'the host name chosen is not a valid name on the master' },
  EUSERDATA: { exit: usage, meaning: "the user data cannot be read as pacha's (malformed YAML, an unknown key …)" },
  EINSTANCEDATA: { exit: usage, meaning: 'the instance data is not a JSON object' },
  ESSMPATH: { exit: usage, meaning: 'the SSM path is empty, or SSM refuses it as invalid' },
  ESSMREGION: { exit: usage, meaning: 'no AWS region to read SSM in, or one SSM does not know' },
  ESSMEMPTY: { exit: usage, meaning: "no parameters under the SSM path, nor under the host's own" },
  ESSMDENIED: { exit: usage, meaning: "the instance's role may not read the SSM path" },
  ESSMNOTFOUND: { exit: usage, meaning: 'no parameters at the SSM path' },
  ESSMCREDENTIALS: { exit: usage, meaning: 'no valid AWS credentials to read SSM with' },
  ESSM: { exit: usage, meaning: 'reading SSM failed for another reason (named in the message)' },
  ES3NOBUCKET: { exit: usage, meaning: "the S3 bucket named in pacha.host does not exist" },
  ES3NOREGION: { exit: usage, meaning: 'no AWS region for the S3 master (pacha.s3.region, the environment or the metadata service)' },
  ES3REGION: { exit: usage, meaning: 'the S3 bucket is in another region than the one pacha used' },
  ES3CREDENTIALS: { exit: usage, meaning: 'no usable AWS credentials for the S3 master' },
  ES3DENIED: { exit: usage, meaning: "this host's IAM role (or user) may not do this on the S3 master" },
  EUNKNOWNHOST: { exit: usage, meaning: 'pacha.boot.new_host = refuse, and the master has no host of this name (a typo must not become a host)' },
  EDAEMONLOCKED: { exit: usage, meaning: "another pacha daemon holds this state dir's lock" },

  // 3: the master (or a source boot needs) cannot be reached or trusted; nothing was touched.
  EUNREACHABLE: { exit: unreachable, meaning: 'the master cannot be reached' },
  EHOSTKEY: { exit: unreachable, meaning: "the master's host key is not the one pacha knows" },
  EAUTH: { exit: unreachable, meaning: "the master refused pacha's key" },
  EPUSHKEY: { exit: unreachable, meaning: 'ssh, run by git push, would not use the private key (its words name the file)' },
  EBOOTTIMEOUT: { exit: unreachable, meaning: 'the master did not answer within pacha.boot.timeout' },
  EHEARTBEAT: { exit: unreachable, meaning: "a heartbeat did not reach the master" },
  ESOURCEUNREACHABLE: { exit: unreachable, meaning: 'a source boot reads (SSM, the metadata service) kept failing until pacha.boot.timeout' },
  EIMDSUNAVAILABLE: { exit: unreachable, meaning: 'the EC2 metadata service failed or did not answer, and SSM needs the region it gives' },
  ESSMTHROTTLED: { exit: unreachable, meaning: 'SSM kept throttling the reads' },
  ESSMUNREACHABLE: { exit: unreachable, meaning: 'the SSM endpoint cannot be reached' },
  ESSMUNAVAILABLE: { exit: unreachable, meaning: "SSM failed on AWS's side (HTTP 5xx)" },
  EFENCED: { exit: unreachable, meaning: 'boot refused: another instance holds this host name (it pushed or sent its heartbeat within pacha.boot.fence); `pacha boot --take-over` takes it' },
  EFENCEREAD: { exit: unreachable, meaning: 'who holds this host name could not be read from the master' },
  ES3UNAVAILABLE: { exit: unreachable, meaning: 'S3 kept throttling (SlowDown, 503) or did not answer until pacha.s3.timeout' },

  // 1: the operation failed.
  ES3: { exit: failed, meaning: 'the S3 master failed a request for another reason (named in the message)' },
  EMASTER: { exit: failed, meaning: 'the master answered but failed the request' },
  EREMOTE: { exit: failed, meaning: 'a command or a file operation on the master failed' },
  ENOGIT: { exit: failed, meaning: 'git is not installed on the master' },
  ENOSFTP: { exit: failed, meaning: "the master's SSH server offers no SFTP" },
  ENOHOSTSPATH: { exit: failed, meaning: 'pacha.hosts.path does not exist on the master' },
  EMASTERNOTDIR: { exit: failed, meaning: 'a path on the master that must be a directory is something else' },
  EBADNAME: { exit: failed, meaning: "a host or repository name the master's layout cannot hold" },
  ENOHOST: { exit: failed, meaning: 'the master has no such host' },
  ECLONE: { exit: failed, meaning: 'a repository could not be cloned from the master' },
  EEMPTYREPO: { exit: failed, meaning: 'a repository on the master has no commits yet' },
  ENOMETADATA: { exit: failed, meaning: 'a commit has no readable .pacha/metadata.json (it was not written by pacha)' },
  EMETADATA: { exit: failed, meaning: '.pacha/metadata.json is malformed, or describes another path' },
  EUNSAFE: { exit: failed, meaning: 'refused: placing it would write through a symlink, outside its root or over the state dir; nothing was touched' },
  EPLACE: { exit: failed, meaning: 'an entry could not be placed' },
  EBACKUP: { exit: failed, meaning: 'a displaced entry could not be kept' },
  EHOOK: { exit: failed, meaning: 'a hook failed (a pre hook stops the rebuild before any file is touched)' },
  EDIVERGED: { exit: failed, meaning: "the master's history moved again while reconciling; nothing was forced (run `pacha reconcile` again)" },
  EPUSH: { exit: failed, meaning: 'the master rejected a push' },
  EGATE: { exit: failed, meaning: "the master's gate refused the request" },
  EGATEANSWER: { exit: failed, meaning: "the gate's answer is not valid" },
  EFLEET: { exit: failed, meaning: 'reading the fleet on the master failed' },
  EKEYSLOCKED: { exit: failed, meaning: 'authorized_keys stayed locked by another enrolment' },
  EKEYGEN: { exit: failed, meaning: 'ssh-keygen failed' },
  EENROL: { exit: failed, meaning: 'authorized_keys cannot be changed safely (nothing was changed)' },
  ENOTENROLLED: { exit: failed, meaning: 'no such key is enrolled for the host' },
  ESTATEDIR: { exit: failed, meaning: 'the state dir (or its ssh dir) is not a real directory' },
  EUNTRACKABLE: { exit: failed, meaning: 'a tracked path holds entries pacha cannot restore exactly; nothing was recorded' },
  ECAPTURE: { exit: failed, meaning: 'an entry of a tracked path cannot be read' },
  ECONFLICT: { exit: failed, meaning: 'the path conflicts with one already tracked' },
  EGONE: { exit: failed, meaning: 'a tracked path no longer exists' },
  EREGISTRY: { exit: failed, meaning: 'the list of tracked paths in the state dir is damaged' },
  ECONCURRENT: { exit: failed, meaning: 'another process committed the same path at the same time; try again' },
  EBUSY: { exit: failed, meaning: "a writer lock stayed held by another pacha process" },
  ELOCKCHANGING: { exit: failed, meaning: "the daemon's lock file kept changing while it was being taken" },
  EREADONLY: { exit: failed, meaning: 'a file pacha must write is on a read-only file system' },
  ENOPERMISSION: { exit: failed, meaning: 'permission denied (pacha is not root, or cannot reach a file)' },
  EWATCHLIMIT: { exit: failed, meaning: 'the inotify watch limit is reached (the daemon rescans that path instead)' },
  EINTERNAL: { exit: failed, meaning: 'a bug: an unexpected error (its stack is printed)' },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes that give one exit status: a class that always exits 2 takes only these. */
export type CodeWithExit<E extends ExitCode> = { [K in ErrorCode]: (typeof ERROR_CODES)[K]['exit'] extends E ? K : never }[ErrorCode];

export function exitCodeOf(code: ErrorCode): ExitCode {
  return ERROR_CODES[code].exit;
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The README's exit-code section: the statuses, then every code with its status. */
export function errorCodeReference(): string {
  const statuses = (Object.entries(EXIT_MEANINGS) as Array<[string, string]>).map(([exit, meaning]) => `| ${exit} | ${meaning} |`);
  const codes = (Object.entries(ERROR_CODES) as Array<[ErrorCode, CodeSpec]>)
    .sort(([a, x], [b, y]) => x.exit - y.exit || (a < b ? -1 : a > b ? 1 : 0))
    .map(([code, spec]) => `| \`${code}\` | ${spec.exit} | ${spec.meaning.replace(/\|/g, '\\|')} |`);
  return [
    '| exit | meaning |',
    '|---|---|',
    ...statuses,
    '',
    'Every error pacha reports carries one of these codes (`--json` gives it as `code`):',
    '',
    '| code | exit | meaning |',
    '|---|---|---|',
    ...codes,
  ].join('\n');
}
