// Key material from user data or SSM, put where ssh and ssh2 read it: the private key as
// <state>/ssh/id_master (0600) and the pinned master host key as <state>/ssh/known_hosts.
// Both are written atomically in a 0700 directory. A key's content never appears in an error.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, OperationError } from '../errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../fs/atomic.js';
import { sshStateDir, writePinnedKnownHosts } from '../master/ssh-options.js';

export function privateKeyPath(stateDir: string): string {
  return path.join(sshStateDir(stateDir), 'id_master');
}

/**
 * The key as OpenSSH wants the file: LF line ends and a final newline (settings values are
 * trimmed, and OpenSSH refuses a key file without its last newline). Throws a ConfigError
 * naming `source` when ssh2 cannot read it as an unencrypted private key.
 */
export async function checkPrivateKey(key: string, source: string): Promise<string> {
  const text = `${key.replace(/\r\n/g, '\n').trim()}\n`;
  // Lazily: ssh2 is heavy, and most boots bring no key. `utils` is only on the CommonJS default export.
  const { utils } = (await import('ssh2')).default;
  const parsed = utils.parseKey(text);
  const invalid = (detail?: string): ConfigError =>
    new ConfigError(`the private key from ${source} is not a valid OpenSSH/PEM private key${detail ? `: ${detail}` : ''}`, {
      code: 'EBADKEY',
      hint: 'give the whole unencrypted private key, from -----BEGIN to -----END (ssh-keygen -t ed25519 -N "")',
    });
  // ssh2's own message is not passed on: it is about the content, which stays unsaid.
  if (parsed instanceof Error) {
    throw invalid(/encrypted|passphrase/i.test(parsed.message) ? 'it is encrypted (pacha needs a key without a passphrase)' : undefined);
  }
  if (!parsed.isPrivateKey()) throw invalid('it is a public key');
  return text;
}

/** Validate and write the private key; returns the file (for pacha.ssh.key). */
export async function writePrivateKey(stateDir: string, key: string, source: string): Promise<string> {
  const text = await checkPrivateKey(key, source);
  const dir = await ensureSshDir(stateDir);
  const file = path.join(dir, 'id_master');
  await writeFileAtomic(file, text, 0o600);
  return file;
}

export interface PinnedHostKey {
  /** pacha.host */
  host: string;
  /** pacha.ssh.port */
  port: number;
  /** pacha.ssh.host_key: "TYPE BASE64 [comment]" */
  hostKey: string;
  /** Where the key came from, for the error. */
  source: string;
}

/** Write `[host]:port TYPE BASE64` (`host TYPE BASE64` on port 22); returns the file (for pacha.ssh.known_hosts). */
export async function writeKnownHosts(stateDir: string, pinned: PinnedHostKey): Promise<string> {
  await ensureSshDir(stateDir);
  try {
    return await writePinnedKnownHosts(stateDir, pinned.host, pinned.port, pinned.hostKey);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new ConfigError(`the master host key from ${pinned.source} is not a public key ("TYPE BASE64", e.g. "ssh-ed25519 AAAA…")`, {
        code: 'EBADKEY',
        hint: "copy the master's /etc/ssh/ssh_host_ed25519_key.pub",
        cause: error,
      });
    }
    throw error;
  }
}

/** <state> and <state>/ssh as private directories; refuses a symlink in place of either. */
async function ensureSshDir(stateDir: string): Promise<string> {
  const dir = sshStateDir(stateDir);
  for (const d of [stateDir, dir]) {
    await ensurePrivateDir(d);
    const stat = await lstat(d);
    if (!stat.isDirectory()) {
      throw new OperationError('ESTATEDIR', `${d} is not a directory (a symlink?); pacha keeps its keys only in a real 0700 directory`, {
        hint: `remove ${d} and run pacha boot again`,
      });
    }
  }
  return dir;
}
