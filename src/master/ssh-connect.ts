// One ssh2 connection to the master: host key check against the same sources OpenSSH gets,
// a 10 s ready timeout, and every way connecting can fail turned into a MasterUnreachableError
// that names the master and says what to do.
import { readFile } from 'node:fs/promises';
import type { Client, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import { ConfigError, MasterUnreachableError, errnoCode } from '../errors.js';
import { describeIdentity, type ClientIdentity } from './client-identity.js';
import { checkHostKey, fingerprint, keyTypeOfBlob, knownKeysFor, type HostKeySource, type HostKeyVerdict } from './known-hosts.js';
import { CONNECT_TIMEOUT_SECONDS } from './ssh-options.js';
import { endpointLabel } from './endpoint-label.js';

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
}

export interface ConnectOptions extends SshEndpoint {
  identity: ClientIdentity;
  hostKeySources: HostKeySource[];
  /** "where pacha looked" for host keys. */
  hostKeyPlaces: string;
  home: string;
  /** How long the handshake may take (default CONNECT_TIMEOUT_SECONDS; connect-patience.ts lengthens it after a timeout). */
  readyTimeoutSeconds?: number;
}

export interface SeenHostKey {
  keyType: string;
  keyBase64: string;
  verdict: HostKeyVerdict;
}

export { endpointLabel };

/** ssh2 host key algorithms for the key types known for the master, so it is offered the key pacha can check. */
export function preferredHostKeyAlgorithms(keyTypes: readonly string[]): ServerHostKeyAlgorithm[] {
  const algorithms = keyTypes.flatMap((type) => (type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type]));
  return [...new Set(algorithms)].filter((a): a is ServerHostKeyAlgorithm => (SUPPORTED_HOST_KEY_ALGORITHMS as readonly string[]).includes(a));
}

const SUPPORTED_HOST_KEY_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** The refusal of a host key that is not trusted: which key was seen, where pacha looked, how to pin it. */
export function hostKeyError(endpoint: SshEndpoint, seen: SeenHostKey, places: string): MasterUnreachableError {
  const what = `${seen.keyType} key ${fingerprint(seen.keyBase64)}`;
  const target = `${endpoint.host}:${endpoint.port}`;
  const pin = `pin it with pacha.ssh.host_key = ${seen.keyType} ${seen.keyBase64}`;
  const check = 'compare with `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` run on the master';
  const verdict = seen.verdict;
  let message: string;
  let hint: string;
  if (verdict.status === 'revoked') {
    message = `master ${target} presented the ${what}, which is revoked (@revoked in ${verdict.origin})`;
    hint = 'the master must get a new host key; a revoked key is never accepted';
  } else if (verdict.status === 'mismatch') {
    const expected = verdict.expected.map((k) => `${k.keyType} ${fingerprint(k.keyBase64)} (${k.origin})`).join(', ');
    message = `master ${target} presented the ${what}, which is not the key pacha trusts for it: ${expected}`;
    hint = `the master's key changed, or something is in between; if the change is expected (${check}), ${pin} or update ${places}`;
  } else {
    message = `master ${target} presented the ${what}, which is unknown: pacha looked in ${places}`;
    hint = `if that is the master's key (${check}), ${pin}, or add it to a known_hosts file named by pacha.ssh.known_hosts`;
  }
  return new MasterUnreachableError(message, { code: 'EHOSTKEY', hint, details: { keyType: seen.keyType, fingerprint: fingerprint(seen.keyBase64) } });
}

/** An ssh2 connection error (not a host key refusal) as a MasterUnreachableError. */
export function connectError(error: unknown, options: ConnectOptions): MasterUnreachableError {
  const label = endpointLabel(options);
  const level = error && typeof error === 'object' && 'level' in error ? String(error.level) : undefined;
  const code = errnoCode(error);
  const text = error instanceof Error ? error.message : String(error);
  if (level === 'client-authentication') {
    return new MasterUnreachableError(`${label} refused pacha's credentials (Permission denied (publickey)): tried ${describeIdentity(options.identity, options.home)}`, {
      code: 'EAUTH',
      cause: error,
      hint: `enrol this host's public key on the master (pacha add-host HOST --key FILE), or add it to ~${options.user}/.ssh/authorized_keys there, or set pacha.ssh.key to a key it accepts`,
    });
  }
  if (level === 'client-timeout' || code === 'ETIMEDOUT') {
    return unreachable(label, `did not answer within ${options.readyTimeoutSeconds ?? CONNECT_TIMEOUT_SECONDS} s`, error);
  }
  if (level === 'client-dns' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return unreachable(label, `host name ${options.host} does not resolve (${code ?? text})`, error, 'check pacha.host and this machine\'s DNS');
  }
  if (code === 'ECONNREFUSED') return unreachable(label, 'refused the connection (is sshd running on that port?)', error);
  return unreachable(label, code ? `${code}: ${text}` : text, error);
}

function unreachable(label: string, what: string, cause: unknown, hint?: string): MasterUnreachableError {
  return new MasterUnreachableError(`master ${label} unreachable: ${what}`, {
    cause,
    hint: hint ?? 'check that the master is up and that pacha.host and pacha.ssh.port are right; nothing was changed',
  });
}

async function privateKey(identity: ClientIdentity): Promise<Buffer | undefined> {
  if (!identity.keyFile) return undefined;
  try {
    return await readFile(identity.keyFile);
  } catch (error) {
    if (!identity.explicit) return undefined;
    throw new ConfigError(`pacha.ssh.key names ${identity.keyFile}, which cannot be read (${errnoCode(error) ?? String(error)})`, {
      code: 'ENOKEY',
      hint: 'point pacha.ssh.key at the private key file for the master (readable by this user)',
    });
  }
}

/** Connect and authenticate; resolves once the session is ready, with the host key already checked. */
export async function connectSsh(options: ConnectOptions): Promise<Client> {
  const { Client } = await import('ssh2'); // lazily: ssh2 is heavy and most commands never need it
  const client = new Client();
  let seen: SeenHostKey | undefined;
  const hostVerifier = (key: Buffer): boolean => {
    const keyType = keyTypeOfBlob(key) ?? 'unknown';
    const keyBase64 = key.toString('base64');
    seen = { keyType, keyBase64, verdict: checkHostKey({ host: options.host, port: options.port, keyType, keyBase64 }, options.hostKeySources) };
    return seen.verdict.status === 'match';
  };
  const knownTypes = knownKeysFor(options.host, options.port, options.hostKeySources).map((k) => k.keyType);
  const config: ConnectConfig = {
    host: options.host,
    port: options.port,
    username: options.user,
    readyTimeout: (options.readyTimeoutSeconds ?? CONNECT_TIMEOUT_SECONDS) * 1000,
    keepaliveInterval: 15_000,
    hostVerifier,
    algorithms: { serverHostKey: { prepend: preferredHostKeyAlgorithms(knownTypes), append: [], remove: [] } },
  };
  const key = await privateKey(options.identity);
  if (key) config.privateKey = key;
  if (options.identity.agentSocket) config.agent = options.identity.agentSocket;
  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    // ssh2 may emit 'error' more than once (a ready timeout, then "Connection lost before
    // handshake" when a hung master's socket finally goes): a listener stays for the client's
    // whole life, or the second one kills the process. Errors after 'ready' are the caller's
    // to see as failed requests or 'close'; here they are only kept from crashing.
    client.on('error', (error: unknown) => {
      if (settled) return;
      settled = true;
      client.removeAllListeners('ready');
      client.end();
      client.destroy();
      reject(seen && seen.verdict.status !== 'match' ? hostKeyError(options, seen, options.hostKeyPlaces) : connectError(error, options));
    });
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      resolve(client);
    });
    try {
      client.connect(config);
    } catch (error) {
      settled = true;
      // ssh2 throws synchronously for a key it cannot use (encrypted without a passphrase, not a key).
      reject(
        new ConfigError(`${options.identity.keyFile ?? 'the private key'} cannot be used: ${error instanceof Error ? error.message : String(error)}`, {
          code: 'EBADKEY',
          hint: 'pacha needs an unencrypted private key file (mode 0600) or a running ssh-agent',
        }),
      );
    }
  });
}
