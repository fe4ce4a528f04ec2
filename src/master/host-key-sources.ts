// Which host keys pacha trusts for the master, in order: the pinned pacha.ssh.host_key,
// else the pacha.ssh.known_hosts file, else the system's known_hosts files. The policy is
// decided purely; loading reads the files. ssh2 and the OpenSSH command share both.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, errnoCode } from '../errors.js';
import { parsePublicKey, type HostKeySource } from './known-hosts.js';

export const SYSTEM_GLOBAL_KNOWN_HOSTS = '/etc/ssh/ssh_known_hosts';

export type HostKeyPolicy =
  | { kind: 'pinned'; key: string }
  | { kind: 'file'; path: string }
  | { kind: 'system'; userFile: string; globalFile: string };

export interface HostKeySettings {
  /** pacha.ssh.host_key */
  hostKey?: string | undefined;
  /** pacha.ssh.known_hosts */
  knownHosts?: string | undefined;
}

export function hostKeyPolicy(settings: HostKeySettings, home: string): HostKeyPolicy {
  if (settings.hostKey) {
    if (!parsePublicKey(settings.hostKey)) {
      throw new ConfigError(`pacha.ssh.host_key is not a public key: expected "TYPE BASE64", e.g. "ssh-ed25519 AAAA…"`, {
        code: 'EBADVALUE',
        hint: 'copy the master\'s /etc/ssh/ssh_host_ed25519_key.pub (or the output of `ssh-keyscan -t ed25519 MASTER`, without the host name)',
      });
    }
    return { kind: 'pinned', key: settings.hostKey.trim() };
  }
  if (settings.knownHosts) return { kind: 'file', path: settings.knownHosts };
  return { kind: 'system', userFile: path.join(home, '.ssh', 'known_hosts'), globalFile: SYSTEM_GLOBAL_KNOWN_HOSTS };
}

/** "where pacha looked", for messages. */
export function describePolicy(policy: HostKeyPolicy): string {
  switch (policy.kind) {
    case 'pinned':
      return 'pacha.ssh.host_key (pinned)';
    case 'file':
      return `pacha.ssh.known_hosts (${policy.path})`;
    case 'system':
      return `${policy.userFile} and ${policy.globalFile}`;
  }
}

/** A text file's content, or undefined when it does not exist. */
export async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** The sources of a policy; a missing pacha.ssh.known_hosts is a ConfigError, missing system files are skipped. */
export async function loadHostKeySources(policy: HostKeyPolicy): Promise<HostKeySource[]> {
  if (policy.kind === 'pinned') return [{ kind: 'pinned', origin: 'pacha.ssh.host_key', key: policy.key }];
  if (policy.kind === 'file') {
    const text = await readIfPresent(policy.path);
    if (text === undefined) {
      throw new ConfigError(`pacha.ssh.known_hosts names ${policy.path}, which does not exist`, {
        code: 'ENOKNOWNHOSTS',
        hint: `create it with the master's key (\`ssh-keyscan -p PORT MASTER > ${policy.path}\`, then check the fingerprint), or set pacha.ssh.host_key`,
      });
    }
    return [{ kind: 'known_hosts', origin: policy.path, text }];
  }
  const sources: HostKeySource[] = [];
  for (const file of [policy.userFile, policy.globalFile]) {
    const text = await readIfPresent(file);
    if (text !== undefined) sources.push({ kind: 'known_hosts', origin: file, text });
  }
  return sources;
}
