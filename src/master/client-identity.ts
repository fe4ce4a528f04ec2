// Which credentials pacha offers the master, like OpenSSH: pacha.ssh.key alone when set;
// else the first of OpenSSH's default key files that exists, and the agent when there is one.
import { access, stat } from 'node:fs/promises';
import { ConfigError, errnoCode } from '../errors.js';
import path from 'node:path';

/** OpenSSH's default identity files, in the order pacha tries them. */
export const DEFAULT_KEY_NAMES = ['id_ed25519', 'id_ecdsa', 'id_rsa'] as const;

export interface ClientIdentity {
  /** Private key file offered (its content is read only when connecting, never logged). */
  keyFile?: string | undefined;
  /** True when the key came from pacha.ssh.key (OpenSSH then gets IdentitiesOnly=yes). */
  explicit: boolean;
  /** SSH_AUTH_SOCK, when the agent is used. */
  agentSocket?: string | undefined;
}

/** Pure: the identity from the setting, the default files that exist, and the agent socket. */
export function chooseIdentity(keySetting: string | undefined, existingDefaults: readonly string[], agentSocket: string | undefined): ClientIdentity {
  if (keySetting) return { keyFile: keySetting, explicit: true };
  return { keyFile: existingDefaults[0], explicit: false, agentSocket: agentSocket || undefined };
}

export function defaultKeyFiles(home: string): string[] {
  return DEFAULT_KEY_NAMES.map((name) => path.join(home, '.ssh', name));
}

export async function resolveIdentity(keySetting: string | undefined, home: string, agentSocket: string | undefined): Promise<ClientIdentity> {
  const existing: string[] = [];
  if (!keySetting) {
    for (const file of defaultKeyFiles(home)) {
      if (await access(file).then(() => true, () => false)) existing.push(file);
    }
  }
  return chooseIdentity(keySetting, existing, agentSocket);
}

/** "key /root/.ssh/id_ed25519 and the agent (SSH_AUTH_SOCK)", for messages. */
export function describeIdentity(identity: ClientIdentity, home: string): string {
  const parts: string[] = [];
  if (identity.keyFile) parts.push(`key ${identity.keyFile}`);
  if (identity.agentSocket) parts.push('the agent (SSH_AUTH_SOCK)');
  if (parts.length === 0) return `no key (none of ${defaultKeyFiles(home).join(', ')} exists, and no agent)`;
  return parts.join(' and ');
}

/**
 * OpenSSH (which git uses) refuses a private key that others may read; ssh2 would not. Refuse
 * it up front, in OpenSSH's words, so both transports agree and the message says what to do.
 */
export async function checkKeyFileMode(keyFile: string): Promise<void> {
  let stats;
  try {
    stats = await stat(keyFile);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return; // said when the key is read (ssh-connect.ts)
    throw error;
  }
  if ((stats.mode & 0o077) !== 0 && stats.uid === process.getuid?.()) {
    const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
    throw new ConfigError(`UNPROTECTED PRIVATE KEY FILE: permissions ${mode} for '${keyFile}' are too open; OpenSSH refuses such a key`, {
      code: 'ESSHKEY',
      hint: `chmod 600 ${keyFile}`,
    });
  }
}
