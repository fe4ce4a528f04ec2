// The master: where every host's copies live. Two implementations share this interface:
// a remote master over SSH (ssh2 for listing/creating/fetching, OpenSSH for git traffic)
// and a local one (standalone mode: pacha.host = local).
import type { HookPhase } from '../hooks/types.js';
import type { FleetSnapshot } from '../fleet/snapshot.js';
import type { RetryDropsOptions } from './transient.js';

export interface HookFile {
  name: string;
  /** Mode on the master (st_mode & 0o7777). */
  mode: number;
  type: 'file' | 'directory' | 'symlink' | 'other';
  /** Where it was copied locally (regular files only). */
  localPath?: string;
}

export interface HostListing {
  host: string;
  /** Repository names under <hosts_path>/<host>/ (directories that are git repositories). */
  repositories: string[];
  hasPreHooks: boolean;
  hasPostHooks: boolean;
}

export interface CopyRefsOptions {
  /** Only this many commits of each ref's history are needed (the fence read: 1); a master may send more. */
  depth?: number;
}

export interface Master {
  /** "bar_user@master.example.com:22" or "local:/pacha/hosts", for messages. */
  readonly label: string;
  readonly hostsPath: string;
  /** Every host directory under hosts_path, sorted. */
  listHosts(): Promise<string[]>;
  /** One host's repositories and hook dirs; undefined when the master has no such host. */
  describeHost(host: string): Promise<HostListing | undefined>;
  /** Create <hosts_path>/<host>/. The parent (hosts_path) must exist. */
  addHost(host: string): Promise<'created' | 'exists'>;
  /** Create <hosts_path>/<host>/<name>/ as a git repository with a working copy (receive.denyCurrentBranch=updateInstead). */
  ensureRepository(host: string, name: string): Promise<'created' | 'exists'>;
  /** Copy <hosts_path>/<host>/pacha_<phase>/ entries into localDir (regular files keep their mode); [] when absent. */
  fetchHooks(host: string, phase: HookPhase, localDir: string): Promise<HookFile[]>;
  /** The URL git uses for a repository: ssh://user@host:port/abs/path, or the local path. */
  repositoryUrl(host: string, name: string): string;
  /**
   * Copy a repository's refs into the local git dir `gitDir` — a new one, or one holding other
   * repositories' objects only — in this process, where git's own transport would start a
   * remote helper (S3: master/s3/copy-refs.ts) or a second connection (SSH: OpenSSH;
   * master/upload-pack-fetch.ts uses the ssh2 connection already open). `pick` names the
   * local ref for each of the master's refs (undefined: not copied). The refs copied, the
   * master's name -> commit. Absent: callers run git fetch / git clone.
   */
  copyRefs?(host: string, name: string, gitDir: string, pick: (ref: string) => string | undefined, options?: CopyRefsOptions): Promise<Record<string, string>>;
  /**
   * A repository's refs, each with its commit's committer time and trailers where the master
   * keeps them beside the ref (S3: the pointer's stamps), read without git: boot's fence read
   * needs nothing else. A ref without them: the caller copies the commits (copyRefs / fetch).
   */
  readRefStamps?(host: string, name: string): Promise<Record<string, { sha: string; stamp?: { time: number; trailers: string[] } }>>;
  /** Environment for git commands that talk to this master (GIT_SSH_COMMAND …); never includes secrets' contents. */
  gitEnv(): Record<string, string>;
  /**
   * Options for `git push` to this master: where git's receive-pack runs through a shell (a
   * local master, a plain shell account) it runs under umask 077, so the working copy it
   * updates is private whatever the account's umask. The gate sets its own umask.
   */
  pushOptions(): Promise<string[]>;
  close(): Promise<void>;
  /**
   * From now on, retry a request whose connection the master dropped (sshd's MaxStartups
   * under a boot storm), dialling anew, within `options.budgetMs`; refusals never (boot).
   */
  retryDroppedConnections?(options: RetryDropsOptions): void;
  /** Keep the connection git's pushes share open until close(), however long pushes pause (the daemon). */
  keepConnection?(): void;
  /**
   * Move a repository's branch from `from` (the commit last acknowledged) to `to` in one round
   * trip, the pack (`pack()`: undefined when too big) carried along, where this master can
   * (the daemon's kept session on a plain shell account: master/fast-update.ts). True when the
   * branch and working copy are now `to`; false when nothing that matters changed and the
   * caller must push with git (anything unusual: a dirty working copy, a moved branch).
   */
  applyUpdate?(host: string, name: string, update: { from: string; to: string; pack: () => Promise<Buffer | undefined> }): Promise<boolean>;
  /**
   * Run a read-only POSIX sh script where the hosts live and return its output (`pacha fleet`).
   * The local master and a plain shell account can; a gated key refuses with EGATED.
   */
  /**
   * Read every host's refs without a script, where none can run (an S3 master reads its
   * pointers). `sinceSeconds` starts the timeline. Preferred to runScript when present.
   */
  readFleet?(sinceSeconds: number): Promise<FleetSnapshot>;
  /**
   * What gives a host access where the master's own access control does it (S3: an IAM
   * policy for the host's role) and the settings its instance needs; `pacha add-host` prints it.
   */
  hostAccess?(host: string): { how: string; policy: Record<string, unknown>; settings: string[] };
  runScript?(script: string, purpose: string): Promise<{ status: number | null; stdout: string; stderr: string }>;
}
