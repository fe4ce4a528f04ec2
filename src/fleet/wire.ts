// What `pacha fleet` asks the master, and how it reads the answer. One POSIX sh script walks
// <hosts_path>/<host>/<name>/ and runs git in each repository; the same script runs on the
// master itself (pacha.host = local) and over SSH on a plain shell account, so both read the
// same way. Its output, one record per line, fields separated by tabs (names are checked by
// the script and again here, so no field holds a tab or a newline):
//   pacha-fleet <version> <master's clock, unix seconds>
//   host <host>
//   repo <host> <name>
//   ref <refname> <committer date, unix seconds>     (refs/heads/main and refs/pacha/*)
//   Key: value                                       (the ref's commit's trailers, one per line, unfolded)
//   unreadable <host> <name>                         (git could not read it: another owner, a damaged repository)
//   times <unix seconds>…                            (main's commits of the last 30 days, newest first)
//   end
// Two git commands per repository (measured: each costs ~35 ms on a loaded master).
// Building the script and parsing its output are pure.
import { checkHostName } from '../config/values.js';
import { repositoryNameProblem } from '../master/layout.js';
import { HEARTBEAT_REF } from '../store/heartbeat.js';
import { parseTrailerLines, type Provenance } from '../store/provenance.js';
import { BRANCH } from '../store/commit.js';
import type { FleetSnapshot, HostRefs, RepoRefs } from './snapshot.js';

export const WIRE_VERSION = 1;
/** Exit status of the script when hosts_path is missing, and when git is. */
export const NO_HOSTS_PATH = 3;
export const NO_GIT = 4;
/** Most commit times read per repository (the timeline's 30 days). */
export const MAX_TIMES = 5000;
export const DIVERGED_PREFIX = 'refs/pacha/diverged/';

export type { FleetSnapshot, HostRefs, RefTime, RepoRefs } from './snapshot.js';

/**
 * Pure: file one ref of a repository where the fleet reads it (main, the heartbeat, a saved
 * diverged history; any other is ignored). Returns the entry whose provenance the caller
 * fills, if it has one. Shared by the script's parser and the S3 master's pointer reader.
 */
export function placeRef(repo: RepoRefs, ref: string, time: number): { by: Provenance } | undefined {
  if (ref === BRANCH) {
    repo.main = { ref, time, by: {} };
    return repo.main;
  }
  if (ref === HEARTBEAT_REF) {
    repo.heartbeat = { ref, time, by: {} };
    return repo.heartbeat;
  }
  if (ref.startsWith(DIVERGED_PREFIX)) repo.diverged.push({ ref, time });
  return undefined;
}

/** The script, for hosts_path and the timeline's start (unix seconds). */
export function fleetScript(hostsPath: string, since: number, quote: (s: string) => string): string {
  const names = '.*|-*|*[!A-Za-z0-9._-]*';
  return [
    `hosts=${quote(hostsPath)}`,
    `[ -d "$hosts" ] || { echo "no such directory: $hosts" >&2; exit ${NO_HOSTS_PATH}; }`,
    `command -v git >/dev/null 2>&1 || { echo "git is not installed on the master" >&2; exit ${NO_GIT}; }`,
    `printf 'pacha-fleet\\t${WIRE_VERSION}\\t%s\\n' "$(date +%s)"`,
    'for h in "$hosts"/*/; do',
    '  h=${h%/}; host=${h##*/}',
    '  [ -L "$h" ] && continue',
    `  case "$host" in ${names}) continue;; esac`,
    "  printf 'host\\t%s\\n' \"$host\"",
    '  for r in "$h"/*/; do',
    '    r=${r%/}; name=${r##*/}',
    '    [ -L "$r" ] && continue',
    `    case "$name" in pacha_pre|pacha_post|${names}) continue;; esac`,
    '    [ -e "$r/.git" ] || continue',
    "    printf 'repo\\t%s\\t%s\\n' \"$host\" \"$name\"",
    // (for-each-ref's %(trailers:key=…) ignores the key in git 2.39: the whole block is read instead.)
    `    git -C "$r" for-each-ref --format='ref%09%(refname)%09%(committerdate:unix)%0a%(contents:trailers:only,unfold)' ${BRANCH} refs/pacha/ 2>/dev/null ||`,
    "      printf 'unreadable\\t%s\\t%s\\n' \"$host\" \"$name\"",
    "    printf 'times'",
    `    git -C "$r" log --since="@${Math.floor(since)}" -n ${MAX_TIMES} --format=' %ct' ${BRANCH} -- 2>/dev/null | tr -d '\\n'`,
    "    printf '\\n'",
    '  done',
    'done',
    'echo end',
  ].join('\n');
}

const TRAILER_LINE = /^[A-Za-z][A-Za-z0-9-]*:/;

/** The script's output as hosts and their repositories' refs; undefined when it is not the script's (incomplete, or another version). */
export function parseFleetOutput(output: string): FleetSnapshot | undefined {
  const lines = output.split('\n');
  const [magic, version, clock] = (lines[0] ?? '').split('\t');
  if (magic !== 'pacha-fleet' || Number(version) !== WIRE_VERSION) return undefined;
  const snapshot: FleetSnapshot = { masterTime: Number(clock) || 0, hosts: [] };
  let host: HostRefs | undefined;
  let repo: RepoRefs | undefined;
  /** The ref whose trailers the next lines are. */
  let trailersOf: { by: Provenance } | undefined;
  let ended = false;
  for (const line of lines.slice(1)) {
    if (TRAILER_LINE.test(line)) {
      if (trailersOf) trailersOf.by = { ...trailersOf.by, ...parseTrailerLines([line]) };
      continue;
    }
    trailersOf = undefined;
    const [kind, ...fields] = line.split('\t');
    if (kind === 'end') {
      ended = true;
      break;
    }
    if (kind === 'host') {
      const name = fields[0] ?? '';
      host = checkHostName(name) ? undefined : { host: name, repos: [] };
      if (host) snapshot.hosts.push(host);
      repo = undefined;
    } else if (kind === 'repo') {
      const name = fields[1] ?? '';
      repo = host && fields[0] === host.host && !repositoryNameProblem(name) ? { name, diverged: [], times: [] } : undefined;
      if (repo) host!.repos.push(repo);
    } else if (repo && kind === 'ref') {
      const [ref = '', seconds = ''] = fields;
      const time = Number(seconds);
      if (!Number.isFinite(time)) continue;
      trailersOf = placeRef(repo, ref, time);
    } else if (repo && kind === 'unreadable' && fields[0] === host?.host && fields[1] === repo.name) {
      repo.unreadable = true;
    } else if (repo && (line === 'times' || line.startsWith('times '))) {
      repo.times = line
        .slice('times'.length)
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number)
        .filter(Number.isFinite);
    }
  }
  return ended ? snapshot : undefined;
}
