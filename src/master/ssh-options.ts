// The OpenSSH client command git runs (GIT_SSH_COMMAND): batch mode, strict host keys from the
// same policy ssh2 uses, and a ControlMaster so pushes every second reuse one connection
// instead of paying ~250 ms of key exchange each. The builder is pure; the pinned-key
// known_hosts writer is the one thing here that touches the disk.
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../fs/atomic.js';
import { readIfPresent, type HostKeyPolicy } from './host-key-sources.js';
import { knownHostsName, parsePublicKey } from './known-hosts.js';
import { shellCommand } from './shell-quote.js';

export const CONNECT_TIMEOUT_SECONDS = 10;
const SERVER_ALIVE_INTERVAL_SECONDS = 15;
const CONTROL_PERSIST_SECONDS = 60;

export interface SshCommandOptions {
  stateDir: string;
  /** known_hosts file OpenSSH checks (the pinned file, pacha.ssh.known_hosts or ~/.ssh/known_hosts). */
  knownHostsFile: string;
  /** True when only knownHostsFile may vouch for the master (pinned key or explicit file). */
  ignoreGlobalKnownHosts: boolean;
  /** pacha.ssh.key; absent: OpenSSH's own defaults and the agent. */
  keyFile?: string | undefined;
  /**
   * Keep the shared connection for as long as its user lives (the daemon: an edit after an
   * hour of quiet is as fast as one after a second; the daemon stops it when it stops).
   * Otherwise it closes after 60 s unused.
   */
  persist?: boolean;
}

/** <state>/ssh: pacha's OpenSSH files (pinned known_hosts, control sockets), mode 0700. */
export function sshStateDir(stateDir: string): string {
  return path.join(stateDir, 'ssh');
}

export function pinnedKnownHostsPath(stateDir: string): string {
  return path.join(sshStateDir(stateDir), 'known_hosts');
}

/**
 * A value inside `-o Key=Value`: OpenSSH splits it on whitespace (honouring double quotes) and
 * expands `%` tokens in file names, so `%` is doubled and a value with blanks is double-quoted.
 */
export function sshFileOption(value: string): string {
  if (/["\\\n\r]/.test(value)) {
    throw new ConfigError(`${JSON.stringify(value)}: OpenSSH cannot be given a file name containing '"', '\\' or a line break`, {
      code: 'EBADPATH',
      hint: 'use a state dir, key and known_hosts path without those characters',
    });
  }
  const escaped = value.replace(/%/g, '%%');
  return /\s/.test(escaped) ? `"${escaped}"` : escaped;
}

/** The argv of the OpenSSH client (without the destination, which git adds). */
export function sshArgs(options: SshCommandOptions): string[] {
  const option = (name: string, value: string | number): string[] => ['-o', `${name}=${value}`];
  const controlPath = `${sshFileOption(path.join(sshStateDir(options.stateDir), 'cm-'))}%C`;
  return [
    'ssh',
    ...option('BatchMode', 'yes'),
    ...option('StrictHostKeyChecking', 'yes'),
    ...option('UserKnownHostsFile', sshFileOption(options.knownHostsFile)),
    ...(options.ignoreGlobalKnownHosts ? option('GlobalKnownHostsFile', '/dev/null') : []),
    ...option('UpdateHostKeys', 'no'),
    ...option('ConnectTimeout', CONNECT_TIMEOUT_SECONDS),
    ...option('ServerAliveInterval', SERVER_ALIVE_INTERVAL_SECONDS),
    ...option('ControlMaster', 'auto'),
    ...option('ControlPath', controlPath),
    ...option('ControlPersist', options.persist ? 'yes' : CONTROL_PERSIST_SECONDS),
    ...(options.keyFile ? ['-i', options.keyFile.replace(/%/g, '%%'), ...option('IdentitiesOnly', 'yes')] : []),
  ];
}

/**
 * The argv that asks the shared connection to stop: it takes no new sessions and exits once
 * the ones in flight (another pacha process's push) end, so nothing outlives its user by 60 s.
 */
export function controlStopArgs(options: SshCommandOptions, endpoint: { user: string; host: string; port: number }): string[] {
  return [...sshArgs(options), '-O', 'stop', '-p', String(endpoint.port), `${endpoint.user}@${endpoint.host}`];
}

/** GIT_SSH_COMMAND: the argv quoted for the shell git runs it with. */
export function gitSshCommand(options: SshCommandOptions): string {
  return shellCommand(sshArgs(options));
}

/** Which known_hosts file OpenSSH gets for a policy (the pinned one is written by writePinnedKnownHosts). */
export function knownHostsFileFor(policy: HostKeyPolicy, stateDir: string): Pick<SshCommandOptions, 'knownHostsFile' | 'ignoreGlobalKnownHosts'> {
  switch (policy.kind) {
    case 'pinned':
      return { knownHostsFile: pinnedKnownHostsPath(stateDir), ignoreGlobalKnownHosts: true };
    case 'file':
      return { knownHostsFile: policy.path, ignoreGlobalKnownHosts: true };
    case 'system':
      return { knownHostsFile: policy.userFile, ignoreGlobalKnownHosts: false };
  }
}

/** The pinned file's content: one line for the master, `[host]:port type base64` (bare host on port 22). */
export function pinnedKnownHostsText(host: string, port: number, hostKey: string): string {
  const key = parsePublicKey(hostKey);
  if (!key) throw new ConfigError('pacha.ssh.host_key is not a public key ("TYPE BASE64")', { code: 'EBADVALUE' });
  return `${knownHostsName(host, port)} ${key.keyType} ${key.keyBase64}\n`;
}

/** Make <state>/ssh (0700) and atomically (re)write this master's line of the pinned known_hosts (0600) when it changed. */
export async function writePinnedKnownHosts(stateDir: string, host: string, port: number, hostKey: string): Promise<string> {
  await ensureSshStateDir(stateDir);
  const file = pinnedKnownHostsPath(stateDir);
  const line = pinnedKnownHostsText(host, port, hostKey);
  // Several masters (pacha.host as a list) share the file: each one's line replaces only its own.
  const current = await readIfPresent(file);
  const name = `${knownHostsName(host, port)} `;
  const others = (current ?? '').split('\n').filter((l) => l.trim() !== '' && !l.startsWith(name));
  const text = [...others, line.trimEnd()].join('\n') + '\n';
  if (current !== text) await writeFileAtomic(file, text, 0o600);
  return file;
}

/** Make <state>/ssh (0700) for the control sockets. */
export async function ensureSshStateDir(stateDir: string): Promise<void> {
  await ensurePrivateDir(sshStateDir(stateDir));
}
