// The one table of configuration keys. The INI loader, the PACHA_* environment overrides,
// `pacha config`, the README's reference and every validation read this table.

export type Kind =
  | 'string'
  | 'secret'
  | 'integer'
  | 'port'
  | 'boolean'
  | 'paths'
  | 'patterns'
  | 'path'
  | 'master'
  | 'hostname'
  | 'level'
  | 'choice';

export interface KindTypes {
  string: string;
  secret: string;
  integer: number;
  port: number;
  boolean: boolean;
  paths: string[];
  patterns: string[];
  path: string;
  master: string;
  hostname: string;
  level: 'error' | 'warn' | 'info' | 'debug';
  choice: string;
}

export interface KeySpec<K extends Kind = Kind> {
  kind: K;
  /** Absent means "no value": the code that reads the key decides what that means. */
  default?: KindTypes[K];
  help: string;
  /** Lower bound for integers. */
  min?: number;
  /** The values a `choice` key takes. */
  choices?: readonly string[];
  /** Unit shown in help and in `pacha config`. */
  unit?: 'seconds' | 'ms';
}

function spec<K extends Kind>(s: KeySpec<K>): KeySpec<K> {
  return s;
}

/**
 * What pacha.ignore.defaults leaves out of every tracked directory: what a sysadmin expects
 * (etckeeper's defaults, less what only makes sense in /etc): editor swap, backup and lock
 * files, package managers' conffile copies, caches the system rebuilds, compiled Python.
 */
export const DEFAULT_IGNORE: readonly string[] = [
  '*~',
  '*.swp',
  '.*.sw?',
  '\\#*\\#',
  '.#*',
  'DEADJOE',
  '*.dpkg-*',
  '*.ucf-*',
  'ld.so.cache',
  'prelink.cache',
  '.pwd.lock',
  'blkid.tab',
  'blkid.tab.old',
  '*.pyc',
  '*.pyo',
  '__pycache__/',
  '*.elc',
];

export const KEYS = {
  'pacha.host': spec({
    kind: 'master',
    default: 'local',
    help:
      'The master: a host name or address reached over SSH. `local` (the default) means the master is the local directory pacha.hosts.path (standalone mode, no SSH); `s3://BUCKET/PREFIX` means an S3 bucket (see pacha.s3.*). ' +
      'Several masters: a comma-separated list, e.g. `master-a.example.com, ssh://backup@master-b.example.com:2222/srv/pacha/hosts, s3://fleet-bucket/hosts`; an `ssh://[USER@]HOST[:PORT][/HOSTS_PATH]` entry overrides pacha.ssh.user, pacha.ssh.port and pacha.hosts.path for that master. ' +
      'Every commit goes to every master, each with its own queue and backoff; `pacha status` shows what each acknowledged; rebuild and boot take each path from the reachable master with the newest history. The first is the primary (`pacha hosts`, `pacha fleet`).',
  }),
  'pacha.ssh.user': spec({ kind: 'string', default: 'root', help: 'SSH user on the master.' }),
  'pacha.ssh.port': spec({ kind: 'port', default: 22, help: 'SSH port of the master.' }),
  'pacha.ssh.key': spec({
    kind: 'path',
    help: "Private key file for the master. Default: OpenSSH's own defaults (~/.ssh/id_ed25519, id_rsa …).",
  }),
  'pacha.ssh.private_key': spec({
    kind: 'secret',
    help: 'Private key material for the master (from user data or the SSM SecureString of this name); written to the state dir with mode 0600, never logged.',
  }),
  'pacha.ssh.host_key': spec({
    kind: 'string',
    help: "The master's public host key, pinned (e.g. `ssh-ed25519 AAAA…`). Any other key is refused. Several SSH masters: comma-separated, the n-th key for the n-th SSH entry of pacha.host (or one known_hosts file with every master's line in pacha.ssh.known_hosts).",
  }),
  'pacha.ssh.known_hosts': spec({
    kind: 'path',
    help: 'A known_hosts file to check the master against. Default: the system known_hosts files.',
  }),
  'pacha.hosts.path': spec({
    kind: 'path',
    default: '/opt/pacha/hosts',
    help: "Where the master keeps every host's copies: `<hosts_path>/<host>/<name>/`.",
  }),
  'pacha.hostname': spec({ kind: 'hostname', help: "This host's name on the master. Default: the system host name." }),
  'pacha.watch': spec({ kind: 'paths', default: [], help: 'Paths to track: absolute, comma-separated.' }),
  'pacha.ignore': spec({
    kind: 'patterns',
    default: [],
    help:
      'Entries left out of every tracked directory: gitignore-style patterns (`*.bak`, `/anchored`, `dir/`, `!negated`), comma-separated, ' +
      'anchored at each tracked path, after the defaults. Per path: `pacha watch PATH --ignore PATTERN…`. A newly ignored file leaves the next commit (its history stays).',
  }),
  'pacha.ignore.defaults': spec({
    kind: 'boolean',
    default: true,
    help: `Also leave out what a sysadmin expects left out: ${DEFAULT_IGNORE.map((p) => `\`${p}\``).join(' ')}. false turns these off.`,
  }),
  'pacha.state.path': spec({
    kind: 'path',
    default: '/var/lib/pacha',
    help: 'State dir (mode 0700): local git dirs, keys, backups, reports.',
  }),
  'pacha.hooks.timeout': spec({ kind: 'integer', default: 300, min: 1, unit: 'seconds', help: 'Time limit of one hook.' }),
  'pacha.frequency': spec({
    kind: 'integer',
    default: 60,
    min: 1,
    unit: 'seconds',
    help: 'Daemon: a full reconcile scan of every tracked path this often while the scans find what inotify missed (or a path has no inotify watch); while they find nothing, the period doubles after each scan, up to 8× this.',
  }),
  'pacha.push.delay': spec({
    kind: 'integer',
    default: 200,
    min: 0,
    unit: 'ms',
    help: 'Daemon: quiet time after the last filesystem event before a commit, while events keep coming (an edit after quiet is committed at once).',
  }),
  'pacha.push.max_delay': spec({
    kind: 'integer',
    default: 2000,
    min: 0,
    unit: 'ms',
    help: 'Daemon: longest wait before a commit during a continuous stream of events.',
  }),
  'pacha.master': spec({ kind: 'boolean', default: false, help: 'This machine is the master.' }),
  'pacha.master.authorized_keys': spec({
    kind: 'path',
    help: "Master: the authorized_keys file `pacha add-host HOST --key` enrols host keys in and `pacha authorized-keys` reads. Default: the running user's ~/.ssh/authorized_keys.",
  }),
  'pacha.serve.log': spec({
    kind: 'path',
    help: 'Master: a file the gate (`pacha serve HOST`) appends one line to per request, allowed or refused. Default: syslog (auth facility) through logger(1), so the journal has it.',
  }),
  'pacha.log.level': spec({ kind: 'level', default: 'info', help: 'error, warn, info or debug.' }),
  'pacha.ssm.path': spec({
    kind: 'string',
    help: 'Boot: read more settings from AWS SSM Parameter Store under this path (e.g. /pacha/prod).',
  }),
  'pacha.ssm.region': spec({
    kind: 'string',
    help: "Boot: AWS region of the SSM parameters. Default: AWS_REGION, then the instance's region.",
  }),
  'pacha.s3.region': spec({
    kind: 'string',
    help: "S3 master (pacha.host = s3://BUCKET/PREFIX): the bucket's region. Default: AWS_REGION, then the instance's region.",
  }),
  'pacha.s3.endpoint': spec({
    kind: 'string',
    help: 'S3 master: another endpoint than AWS\'s (an S3-compatible store, a test server), addressed path-style. Default: AWS_ENDPOINT_URL_S3.',
  }),
  'pacha.s3.timeout': spec({
    kind: 'integer',
    default: 60,
    min: 1,
    unit: 'seconds',
    help: 'S3 master: how long one request keeps retrying, with jittered backoff, while S3 throttles (SlowDown, 503) or cannot be reached; then exit 3.',
  }),
  'pacha.s3.compact_after': spec({
    kind: 'integer',
    default: 64,
    min: 1,
    help: "S3 master: when a repository's chain of incremental bundles grows past this, a push replaces it with one full bundle (the old ones are deleted after the pointer is swapped).",
  }),
  'pacha.imds': spec({
    kind: 'boolean',
    default: true,
    help: 'Boot: ask the EC2 instance metadata service (IMDSv2). false turns it off.',
  }),
  'pacha.boot.timeout': spec({
    kind: 'integer',
    default: 300,
    min: 1,
    unit: 'seconds',
    help: 'Boot: how long to wait for the master before giving up (exit 3); also how long each later step (fence read, clones, hooks, claim) keeps retrying a connection the master dropped, with jittered backoff (a boot storm against sshd\'s MaxStartups).',
  }),
  'pacha.boot.fence': spec({
    kind: 'integer',
    default: 7500,
    min: 1,
    unit: 'seconds',
    help:
      'Boot: a host name has one live writer. If another instance pushed or sent its heartbeat for this name within this time (default: two heartbeats and a margin), ' +
      'boot is refused (exit 3, naming that instance and its last push) unless `pacha boot --take-over`. A record older than this has aged out; lower pacha.fleet.heartbeat to shorten it.',
  }),
  'pacha.boot.new_host': spec({
    kind: 'choice',
    choices: ['allow', 'refuse'],
    default: 'allow',
    help: 'Boot: what a host name the master does not know means. `allow`: a new host. `refuse`: an error (exit 2) naming the hosts the master has, for fleets with fixed names (a typo must not become a host).',
  }),
  'pacha.fleet.heartbeat': spec({
    kind: 'integer',
    default: 3600,
    min: 1,
    unit: 'seconds',
    help: "Daemon: how often it pushes its heartbeat (the ref refs/pacha/heartbeat in each of the host's repositories on the master: a tiny commit whose date is the beat's time and whose trailers name the instance and boot), and at every start or reboot. `pacha fleet` judges liveness by it.",
  }),
  'pacha.fleet.stale_after': spec({
    kind: 'integer',
    default: 86400,
    min: 1,
    unit: 'seconds',
    help: '`pacha fleet`: a host whose newest heartbeat is older than this (or that has none) is stale. Pushes do not count: an idle host whose daemon is alive is not stale.',
  }),
} as const;

export type KeyName = keyof typeof KEYS;
export type ValueOf<N extends KeyName> = KindTypes[(typeof KEYS)[N]['kind']];
export type Values = { [N in KeyName]: ValueOf<N> | undefined };

/** Keys of the original Pacha that are accepted and ignored with a notice. */
export const IGNORED_KEYS: Record<string, string> = {
  'pacha.log.enable': 'pacha logs to stderr (the journal under systemd)',
  'pacha.log.path': 'pacha logs to stderr (the journal under systemd)',
  'pacha.log.format': 'pacha chooses its own log format',
  'pacha.log.datefmt': 'pacha chooses its own log format',
  'pacha.hg.autocorrect': 'pacha uses git, and pacha.ssh.user is always the remote user',
};

export const KEY_NAMES = Object.keys(KEYS) as KeyName[];

export function isKeyName(name: string): name is KeyName {
  return Object.hasOwn(KEYS, name);
}

export function keySpec(name: KeyName): KeySpec {
  return KEYS[name] as KeySpec;
}

/** pacha.ssh.user -> PACHA_SSH_USER */
export function envName(name: KeyName): string {
  return name.replace(/\./g, '_').toUpperCase();
}

export function isSecret(name: KeyName): boolean {
  return keySpec(name).kind === 'secret';
}
