// pacha.host as a list of masters. Pure.
//
//   pacha.host = master-a.example.com, ssh://backup@master-b.example.com:2222, local
//
// Each entry is one master: `local` (the directory pacha.hosts.path), a bare host name or
// address (pacha.ssh.user, pacha.ssh.port and pacha.hosts.path apply), or an
// `ssh://[USER@]HOST[:PORT][/HOSTS_PATH]` URL whose user, port and path override those keys
// for that master alone. Every master gets every commit.
// The n-th key of a comma-separated pacha.ssh.host_key is pinned for the n-th SSH master;
// one key alone is for the first. pacha.ssh.key (the host's identity) and
// pacha.ssh.known_hosts (which may hold every master's line) are shared.
// `s3://BUCKET/PREFIX` is an S3 bucket (config/s3-url.ts says what a location may be).
// Lives in config/: the key's validation reads it, and config imports nothing from master/.
import { isIPv6 } from 'node:net';
import { checkHostName } from './hostname.js';
import { s3LocationProblem } from './s3-url.js';
import { crypto } from '../lazy-builtins.js';

export type MasterSpec =
  | { kind: 'local'; entry: string }
  | { kind: 'ssh'; entry: string; host: string; user?: string; port?: number; hostsPath?: string }
  | { kind: 's3'; entry: string };

/** The entries of pacha.host, trimmed, blanks dropped. */
export function masterEntries(raw: string | undefined): string[] {
  if (raw === undefined) return ['local'];
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  return entries.length > 0 ? entries : ['local'];
}

/** What is wrong with one entry, or undefined. */
export function masterEntryProblem(entry: string): string | undefined {
  try {
    parseMasterEntry(entry);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function checkHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIPv6(bare)) return bare;
  const problem = checkHostName(host);
  if (problem) throw new Error(`'${host}' ${problem}`);
  return host;
}

/** One entry as a spec; throws an Error saying what is wrong. */
export function parseMasterEntry(entry: string): MasterSpec {
  if (entry === 'local') return { kind: 'local', entry };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(entry)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'ssh', entry, host: checkHost(entry) };
  if (scheme === 's3') {
    const problem = s3LocationProblem(entry);
    if (problem) throw new Error(`'${entry}' ${problem}`);
    return { kind: 's3', entry };
  }
  if (scheme !== 'ssh') throw new Error(`'${entry}': ${scheme}:// is not a kind of master (ssh://USER@HOST:PORT, a host name, local, s3://BUCKET/PREFIX)`);
  const match = /^ssh:\/\/(?:([A-Za-z0-9._][A-Za-z0-9._-]*)@)?(\[[0-9A-Fa-f:.]+\]|[^/:@[\]]+)(?::(\d+))?(\/.*)?$/i.exec(entry);
  if (!match) throw new Error(`'${entry}' is not ssh://[USER@]HOST[:PORT][/HOSTS_PATH]`);
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new Error(`'${entry}': ${port} is not a port number (1-65535)`);
  const hostsPath = match[4] === undefined || match[4] === '/' ? undefined : match[4];
  // A path as pacha.hosts.path takes it: absolute, each component a plain name (no '.', '..', '//', trailing '/').
  if (hostsPath !== undefined && !hostsPath.split('/').slice(1).every((c) => c !== '' && c !== '.' && c !== '..' && !/[\0\s,]/.test(c))) {
    throw new Error(`'${entry}': ${hostsPath} is not a plain absolute path (the master's pacha.hosts.path)`);
  }
  return { kind: 'ssh', entry, host: checkHost(match[2]!), ...(match[1] ? { user: match[1] } : {}), ...(port ? { port } : {}), ...(hostsPath ? { hostsPath } : {}) };
}

export function parseMasterList(raw: string | undefined): MasterSpec[] {
  return masterEntries(raw).map(parseMasterEntry);
}

/** The pinned key for the n-th SSH master: the n-th of a comma-separated list. */
export function pinnedKeyFor(hostKeys: string | undefined, sshIndex: number): string | undefined {
  if (hostKeys === undefined) return undefined;
  const keys = hostKeys.split(',').map((k) => k.trim()).filter(Boolean);
  return keys[sshIndex];
}

/**
 * A short, stable name for a master in local refs (`refs/pacha/pushed/<id>`): from its
 * entry, so reordering the list keeps each master's acknowledged commit.
 */
export function masterId(entry: string): string {
  return crypto().createHash('sha256').update(entry).digest('hex').slice(0, 12);
}
