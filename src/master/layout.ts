// The master's layout, shared by the SSH and local masters (the README, "The master's layout"):
//   <hosts_path>/<host>/<name>/     a git repository with a working copy
//   <hosts_path>/<host>/pacha_pre/  hooks run before files are placed
//   <hosts_path>/<host>/pacha_post/ hooks run after everything is placed
// Pure: every decision about paths, names, what a repository is and hook ordering lives here.
import path from 'node:path';
import { MasterError } from '../errors.js';
import { NEUTRAL_ATTRIBUTES } from '../git-attributes.js';
import { byteOrder } from '../fs/byte-order.js';
import type { HookFile } from './master.js';

import type { HookPhase } from '../hooks/types.js';

export type { HookPhase };

export const HOOK_DIRS: Readonly<Record<HookPhase, string>> = { pre: 'pacha_pre', post: 'pacha_post' };

/** Why `name` is not a safe single path component, or undefined when it is. */
export function unsafeComponentReason(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name === '.' || name === '..') return `is '${name}'`;
  if (name.includes('/')) return "contains '/'";
  if (name.includes('\0')) return 'contains a NUL byte';
  if (name.includes('\n')) return 'contains a newline';
  return undefined;
}

/** Throws a MasterError when `name` (a host or repository name) could escape its directory. */
export function checkComponent(what: 'host' | 'repository', name: string): string {
  const reason = unsafeComponentReason(name);
  if (reason) {
    throw new MasterError(`${what} name ${JSON.stringify(name)} ${reason}`, {
      code: 'EBADNAME',
      hint: `a ${what} name is one directory name on the master: no '/', not '.' or '..', not empty`,
    });
  }
  return name;
}

/** Names pacha gives repositories (store/registry.ts sanitizeName): what the gate accepts. */
const REPOSITORY_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/;

/** Why `name` cannot be a repository on the master, or undefined when it can. Stricter than unsafeComponentReason. */
export function repositoryNameProblem(name: string): string | undefined {
  if (!REPOSITORY_NAME.test(name)) return "is not a repository name (letters, digits, '.', '_' and '-'; not starting with '.' or '-')";
  if (isHookDirName(name)) return 'is a hook directory';
  return undefined;
}

export function hostDir(hostsPath: string, host: string): string {
  return path.posix.join(hostsPath, checkComponent('host', host));
}

export function repositoryDir(hostsPath: string, host: string, name: string): string {
  return path.posix.join(hostDir(hostsPath, host), checkComponent('repository', name));
}

export function hooksDir(hostsPath: string, host: string, phase: HookPhase): string {
  return path.posix.join(hostDir(hostsPath, host), HOOK_DIRS[phase]);
}

/** A host directory's entry as both masters see it (lstat: a symlink is never followed). */
export interface DirEntry {
  name: string;
  type: HookFile['type'];
  /** Whether <entry>/.git exists (asked only for directories). */
  hasGit?: boolean;
}

export function isHookDirName(name: string): boolean {
  return Object.values(HOOK_DIRS).includes(name);
}

/** A repository is a real directory (not a symlink, not a hook dir) that contains `.git`. */
export function isRepository(entry: DirEntry): boolean {
  return entry.type === 'directory' && !isHookDirName(entry.name) && entry.hasGit === true;
}

/** Names in C-locale (byte) order, the order hooks run in (src/hooks/order.ts). */
export function sortNames(names: Iterable<string>): string[] {
  return [...names].sort(byteOrder);
}

/** The type of an entry from its st_mode. */
export function typeFromMode(mode: number): HookFile['type'] {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'directory';
    case 0o120000:
      return 'symlink';
    default:
      return 'other';
  }
}

/** Whether a hook entry is copied (regular files only; everything else is listed with its type). */
export function isCopiedHook(entry: Pick<HookFile, 'type'>): boolean {
  return entry.type === 'file';
}

/** The listing of a host from its directory entries. */
export function hostListing(host: string, entries: readonly DirEntry[]): {
  host: string;
  repositories: string[];
  hasPreHooks: boolean;
  hasPostHooks: boolean;
} {
  const isHookDir = (phase: HookPhase): boolean =>
    entries.some((e) => e.name === HOOK_DIRS[phase] && e.type === 'directory');
  return {
    host,
    repositories: sortNames(entries.filter(isRepository).map((e) => e.name)),
    hasPreHooks: isHookDir('pre'),
    hasPostHooks: isHookDir('post'),
  };
}

/** Host names from the entries of hosts_path: real directories, not hidden (no host name starts with '.'), sorted. */
export function hostNames(entries: readonly DirEntry[]): string[] {
  const isHost = (e: DirEntry): boolean => e.type === 'directory' && !e.name.startsWith('.') && !unsafeComponentReason(e.name);
  return sortNames(entries.filter(isHost).map((e) => e.name));
}

/** `git push --receive-pack=…` where receive-pack runs through a shell: files it writes are private. */
export const PRIVATE_PUSH_OPTIONS: readonly string[] = ['--receive-pack=umask 077 && git-receive-pack'];

/** Repository settings that bound the master's git memory for big files (a loose 500 MB object is mmapped whole). */
export const MASTER_MEMORY_SETTINGS: ReadonlyArray<readonly [string, string]> = [
  ['receive.unpackLimit', '1'],
  ['core.bigFileThreshold', '16m'],
  ['core.packedGitWindowSize', '16m'],
  ['core.packedGitLimit', '64m'],
  ['pack.windowMemory', '64m'],
  ['pack.threads', '1'],
];

/**
 * The master's working-copy index, split (git's core.splitIndex): a shared index of every
 * entry, rewritten only after a fifth of them changed, plus a small index of what changed
 * since. One edit's update then writes a few KB, not the whole index (4 MB at 50k files:
 * git apply --index writes it once per update, and a `git push` twice). Any git reads it.
 */
export const MASTER_INDEX_SETTINGS: ReadonlyArray<readonly [string, string]> = [['core.splitIndex', 'true']];

/** Exit status of ensureRepositoryScript when hosts_path does not exist. */
export const NO_HOSTS_PATH_STATUS = 3;

/**
 * `git init` of a repository on the master: private files from the first one (whatever the
 * umask), and no sample hooks copied from the system's template directory.
 */
export const INIT_OPTIONS: readonly string[] = ['-q', '-b', 'main', '--shared=0600', '--template='];

/**
 * Every repository's config: a push into the checked-out branch updates the working copy an
 * admin reads; git writes the repository's files 0600 and directories 0700 whatever the umask.
 */
export const REPOSITORY_CONFIG: ReadonlyArray<readonly [string, string]> = [
  ['receive.denyCurrentBranch', 'updateInstead'],
  ['core.sharedRepository', '0600'],
  ...MASTER_MEMORY_SETTINGS,
  ...MASTER_INDEX_SETTINGS,
];

/**
 * The shell script that makes <host>/<name> a repository with a working copy on a master
 * reached as a plain shell account (ensure-repository.ts does the same steps with argv).
 * Idempotent: prints "created" or "exists"; the config and modes are (re)applied either way.
 */
export function ensureRepositoryScript(hostsPath: string, host: string, name: string, quote: (s: string) => string): string {
  const repo = repositoryDir(hostsPath, host, name);
  return [
    'umask 077',
    `hosts=${quote(hostsPath)}`,
    `host=${quote(hostDir(hostsPath, host))}`,
    `repo=${quote(repo)}`,
    `[ -d "$hosts" ] || { echo "no such directory: $hosts" >&2; exit ${NO_HOSTS_PATH_STATUS}; }`,
    'if [ -e "$repo/.git" ]; then state=exists; else',
    `  mkdir -p "$repo" && git init ${INIT_OPTIONS.map(quote).join(' ')} "$repo" || exit 1`,
    '  state=created',
    'fi',
    'chmod 700 "$host" "$repo" || exit 1',
    ...REPOSITORY_CONFIG.map(([key, value]) => `git -C "$repo" config ${quote(key)} ${quote(value)} || exit 1`),
    // The working copy byte for byte, whatever a .gitattributes among the host's files says.
    `mkdir -p "$repo/.git/info" && printf '%s' ${quote(NEUTRAL_ATTRIBUTES)} > "$repo/.git/info/attributes" || exit 1`,
    'echo "$state"',
  ].join('\n');
}
