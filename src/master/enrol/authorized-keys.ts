// Enrolled keys in an authorized_keys file: reading the lines, deciding what enrolling or
// revoking a host changes. Pure: text in, text out. An enrolled line is
//   restrict,command="<node> <pacha> -c <conf> serve HOST" ssh-ed25519 AAAA… pacha:HOST
// and every other line of the file is kept exactly as it was.
import { checkHostName } from '../../config/values.js';
import { shellQuote } from '../shell-quote.js';

const KEY_TYPES = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;
const BLOB = /^[A-Za-z0-9+/]+={0,2}$/;

export interface PublicKey {
  type: string;
  blob: string;
}

export interface KeyLine extends PublicKey {
  /** 0-based line number in the file. */
  index: number;
  /** The options field, as written (undefined when the line has none). */
  options: string | undefined;
  /** The host a pacha line serves (`… serve HOST"` in its forced command). */
  enrolledFor: string | undefined;
}

export class EnrolmentProblem extends Error {
  override name = 'EnrolmentProblem';
}

/** A public key file's content ("type blob [comment]"), checked. */
export function parsePublicKey(text: string, file: string): PublicKey {
  const trimmed = text.trim();
  if (trimmed.includes('PRIVATE KEY')) throw new EnrolmentProblem(`${file} holds a private key; give the public key (the .pub file)`);
  const [type = '', blob = ''] = trimmed.split(/\s+/);
  if (!KEY_TYPES.test(type) || !BLOB.test(blob) || trimmed.includes('\n')) {
    throw new EnrolmentProblem(`${file} is not one OpenSSH public key ("ssh-ed25519 AAAA… comment")`);
  }
  return { type, blob };
}

/** Split an authorized_keys line into its options field (quotes respected) and the rest. */
function splitOptions(line: string): { options: string | undefined; rest: string } {
  const first = line.split(/\s+/, 1)[0] ?? '';
  if (KEY_TYPES.test(first)) return { options: undefined, rest: line };
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && quoted && line[i + 1] === '"') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ' ' || c === '\t')) return { options: line.slice(0, i), rest: line.slice(i).trim() };
  }
  return { options: line, rest: '' };
}

/** The host a line's forced command serves, if it is `… serve HOST`. */
function servedHost(options: string | undefined): string | undefined {
  const command = /(?:^|,)command="((?:[^"\\]|\\.)*)"/.exec(options ?? '')?.[1];
  const host = command ? / serve ([^ ]+)$/.exec(command)?.[1] : undefined;
  return host && !checkHostName(host) ? host : undefined;
}

export function parseAuthorizedKeys(text: string): KeyLine[] {
  const keys: KeyLine[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const { options, rest } = splitOptions(line);
    const [type = '', blob = ''] = rest.split(/\s+/);
    if (!KEY_TYPES.test(type) || !BLOB.test(blob)) return;
    keys.push({ index, options, type, blob, enrolledFor: servedHost(options) });
  });
  return keys;
}

export interface ForcedCommand {
  node: string;
  pacha: string;
  /** The config file the gate reads (absolute), when there is one. */
  config: string | undefined;
}

/** The command sshd runs for a key enrolled for host; every path quoted for the account's sh. */
export function forcedCommand(command: ForcedCommand, host: string): string {
  const words = [command.node, command.pacha, ...(command.config ? ['-c', command.config] : []), 'serve', host];
  for (const word of words) {
    if (/["\\\n\0]/.test(word)) throw new EnrolmentProblem(`${JSON.stringify(word)} holds a quote, a backslash or a newline: it cannot go into a forced command`);
  }
  return words.map(shellQuote).join(' ');
}

export function enrolledLine(command: ForcedCommand, key: PublicKey, host: string): string {
  return `restrict,command="${forcedCommand(command, host)}" ${key.type} ${key.blob} pacha:${host}`;
}

export type EnrolOutcome = 'added' | 'updated' | 'unchanged';

/** The file after enrolling key for host; refuses a key that serves another host or has unrestricted access. */
export function planEnrolment(text: string, key: PublicKey, host: string, line: string, file: string): { outcome: EnrolOutcome; text: string } {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const existing = parseAuthorizedKeys(text).filter((k) => k.blob === key.blob && k.type === key.type);
  for (const k of existing) {
    if (k.enrolledFor === undefined) {
      throw new EnrolmentProblem(`this key already has unrestricted access: ${file} line ${k.index + 1} names it without pacha's forced command; remove that line first`);
    }
    if (k.enrolledFor !== host) throw new EnrolmentProblem(`this key is already enrolled for host '${k.enrolledFor}' (${file} line ${k.index + 1}): one key, one host`);
  }
  if (existing.length === 0) return { outcome: 'added', text: `${[...lines, line].join('\n')}\n` };
  if (existing.every((k) => lines[k.index]!.trim() === line)) return { outcome: 'unchanged', text };
  // The same key for the same host with another forced command (pacha moved): one line, the new one.
  const drop = new Set(existing.map((k) => k.index));
  const first = existing[0]!.index;
  const kept = lines.flatMap((l, i) => (i === first ? [line] : drop.has(i) ? [] : [l]));
  return { outcome: 'updated', text: `${kept.join('\n')}\n` };
}

/** The file without host's enrolled lines (or only the one for key); how many went. */
export function planRevocation(text: string, host: string, key?: PublicKey): { removed: number; text: string } {
  const drop = new Set(
    parseAuthorizedKeys(text)
      .filter((k) => k.enrolledFor === host && (!key || (k.blob === key.blob && k.type === key.type)))
      .map((k) => k.index),
  );
  if (drop.size === 0) return { removed: 0, text };
  const kept = text.replace(/\n$/, '').split('\n').filter((_, i) => !drop.has(i));
  return { removed: drop.size, text: kept.length ? `${kept.join('\n')}\n` : '' };
}

/** Enrolled lines, for AuthorizedKeysCommand: all of them, or those of one offered key. */
export function enrolledLines(text: string, offered?: PublicKey): string[] {
  const lines = text.split('\n');
  return parseAuthorizedKeys(text)
    .filter((k) => k.enrolledFor !== undefined && (!offered || (k.type === offered.type && k.blob === offered.blob)))
    .map((k) => lines[k.index]!.trim());
}
