// Secrets never quoted: whatever key a secret arrived under (pacha.ssh.key instead of
// pacha.ssh.private_key, pacha.host, an unknown key), it is replaced by <redacted> in every
// message, log line, --json document and report. Two nets:
//   - by content: anything that looks like a private key (a PEM/OpenSSH/PuTTY block, even
//     cut short) wherever it appears;
//   - by value: every value that arrived as a SecureString or under a key-material key is
//     remembered for the life of the process, and it and each of its lines are replaced.
// The known-value net is process state on purpose: a secret read at boot must stay hidden
// in a log line written an hour later by the daemon in the same process.

export const REDACTED = '<redacted>';

/** A private key block: BEGIN line to END line, or to the end of the text when cut short. */
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g;
const PUTTY_KEY = /PuTTY-User-Key-File-\d+:[\s\S]*?(?:Private-MAC: *[0-9a-fA-F]+|$)/g;
/** Fragments shorter than this are not remembered on their own (they would blot out ordinary words). */
const MIN_FRAGMENT = 12;

const known = new Set<string>();

/** Does this text hold (part of) a private key? Pure. */
export function looksLikePrivateKey(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY/.test(text) || /PuTTY-User-Key-File-\d+:/.test(text);
}

/** Remember a secret value: from now on it is redacted wherever it appears. */
export function rememberSecret(value: string): void {
  const trimmed = value.trim();
  if (trimmed.length === 0) return;
  known.add(trimmed);
  for (const line of trimmed.split(/\r?\n/)) {
    const l = line.trim();
    if (l.length >= MIN_FRAGMENT && !/^-----(BEGIN|END) /.test(l)) known.add(l);
  }
}

/** Is this value a secret (key material, or a remembered secret)? */
export function isSecretValue(value: string): boolean {
  const trimmed = value.trim();
  return looksLikePrivateKey(value) || (trimmed.length > 0 && known.has(trimmed));
}

/** The text with every secret replaced by <redacted>. */
export function redactText(text: string): string {
  let out = text.replace(PRIVATE_KEY_BLOCK, REDACTED).replace(PUTTY_KEY, REDACTED);
  if (known.size === 0) return out;
  // Longest first, so a whole value goes before its own lines.
  for (const secret of [...known].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    // Also as it appears inside a JSON string (newlines escaped).
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
  }
  return out;
}

/** A JSON-able value with every string in it redacted. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  if (value && typeof value === 'object' && 'toJSON' in value && typeof (value as { toJSON: unknown }).toJSON === 'function') {
    return redactDeep((value as { toJSON: () => unknown }).toJSON()) as T;
  }
  return value;
}
