// known_hosts, as OpenSSH reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"). Pure: the
// caller reads the files; this module parses lines and decides whether a key is trusted.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface HostKeyQuery {
  host: string;
  port: number;
  /** "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256" … */
  keyType: string;
  /** The key blob, base64 (the second field of a known_hosts line). */
  keyBase64: string;
}

/** Where trusted keys come from: a pinned key (trusted for this master whatever its name) or a known_hosts text. */
export type HostKeySource =
  | { kind: 'pinned'; origin: string; key: string }
  | { kind: 'known_hosts'; origin: string; text: string };

export interface KnownKey {
  keyType: string;
  keyBase64: string;
  /** "pacha.ssh.host_key" or "/root/.ssh/known_hosts:12". */
  origin: string;
}

export type HostKeyVerdict =
  | { status: 'match'; origin: string }
  | { status: 'mismatch'; expected: KnownKey[] }
  | { status: 'unknown' }
  | { status: 'revoked'; origin: string };

export type Marker = 'revoked' | 'cert-authority' | undefined;

export interface KnownHostsLine {
  marker: Marker;
  patterns: string;
  keyType: string;
  keyBase64: string;
  line: number;
}

/** The name OpenSSH looks up for host:port: the bare host on port 22, else "[host]:port". */
export function knownHostsName(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return port === 22 ? bare : `[${bare}]:${port}`;
}

/** Every key line of a known_hosts text; comments, blank and malformed lines are skipped. */
export function parseKnownHosts(text: string): KnownHostsLine[] {
  const lines: KnownHostsLine[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: Marker;
    if (fields[0].startsWith('@')) {
      const name = fields.shift()!.slice(1);
      if (name !== 'revoked' && name !== 'cert-authority') return; // unknown marker: OpenSSH ignores the line
      marker = name;
    }
    const [patterns, keyType, keyBase64] = fields;
    if (!patterns || !keyType || !keyBase64) return;
    lines.push({ marker, patterns, keyType, keyBase64, line: index + 1 });
  });
  return lines;
}

/** A "type base64 [comment]" public key, as given in pacha.ssh.host_key; undefined when malformed. */
export function parsePublicKey(text: string): { keyType: string; keyBase64: string } | undefined {
  const [keyType, keyBase64] = text.trim().split(/\s+/);
  if (!keyType || !keyBase64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(keyBase64)) return undefined;
  if (keyTypeOfBlob(Buffer.from(keyBase64, 'base64')) !== keyType) return undefined;
  return { keyType, keyBase64 };
}

/** The key type named inside an SSH public key blob (its first string). */
export function keyTypeOfBlob(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** "SHA256:…" as `ssh-keygen -lf` prints it. */
export function fingerprint(keyBase64: string): string {
  const digest = createHash('sha256').update(Buffer.from(keyBase64, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/** OpenSSH's match_pattern: `*` any run, `?` one character; case-insensitive like host names. */
export function matchWildcard(name: string, pattern: string): boolean {
  const regex = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 's').test(name.toLowerCase());
}

/** `|1|salt|hash`: HMAC-SHA1 of the looked-up name keyed with the salt (`ssh-keygen -H`). */
export function matchHashed(name: string, entry: string): boolean {
  const parts = entry.split('|');
  if (parts.length !== 4 || parts[1] !== '1' || !parts[2] || !parts[3]) return false;
  const expected = Buffer.from(parts[3], 'base64');
  const actual = createHmac('sha1', Buffer.from(parts[2], 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Whether a line's host field names `name`: a hashed entry, or a comma list where a negated match vetoes. */
export function matchHostPatterns(name: string, patterns: string): boolean {
  if (patterns.startsWith('|')) return matchHashed(name, patterns);
  let matched = false;
  for (const pattern of patterns.split(',')) {
    if (pattern.startsWith('!')) {
      if (matchWildcard(name, pattern.slice(1))) return false;
    } else if (matchWildcard(name, pattern)) {
      matched = true;
    }
  }
  return matched;
}

interface Candidate extends KnownKey {
  revoked: boolean;
}

function candidatesOf(source: HostKeySource, name: string): Candidate[] {
  if (source.kind === 'pinned') {
    const key = parsePublicKey(source.key);
    return key ? [{ ...key, origin: source.origin, revoked: false }] : [];
  }
  return parseKnownHosts(source.text)
    .filter((l) => l.marker !== 'cert-authority' && matchHostPatterns(name, l.patterns))
    .map((l) => ({
      keyType: l.keyType,
      keyBase64: l.keyBase64,
      origin: `${source.origin}:${l.line}`,
      revoked: l.marker === 'revoked',
    }));
}

/** The keys the sources trust for host:port (revoked ones left out), in source order. */
export function knownKeysFor(host: string, port: number, sources: readonly HostKeySource[]): KnownKey[] {
  const name = knownHostsName(host, port);
  return sources.flatMap((s) => candidatesOf(s, name)).filter((c) => !c.revoked).map(({ revoked: _, ...key }) => key);
}

/**
 * Whether the key a master presented is trusted. A revoked key is refused even when another
 * line allows it; any other key known for the host makes a different key a mismatch.
 */
export function checkHostKey(query: HostKeyQuery, sources: readonly HostKeySource[]): HostKeyVerdict {
  const name = knownHostsName(query.host, query.port);
  const candidates = sources.flatMap((s) => candidatesOf(s, name));
  const same = (c: Candidate): boolean => c.keyType === query.keyType && c.keyBase64 === query.keyBase64;
  const revoked = candidates.find((c) => c.revoked && same(c));
  if (revoked) return { status: 'revoked', origin: revoked.origin };
  const trusted = candidates.filter((c) => !c.revoked);
  const match = trusted.find(same);
  if (match) return { status: 'match', origin: match.origin };
  if (trusted.length === 0) return { status: 'unknown' };
  return { status: 'mismatch', expected: trusted.map(({ revoked: _, ...key }) => key) };
}
