// Cloud-init user data: the `pacha:` mapping of a `#cloud-config` document, delivered plain,
// gzip-compressed, or as one part of a MIME multipart message. Parts are recognised the way
// cloud-init itself does (content type, or the first line for untyped and decompressed parts).
// Key material read here is a secret: no message ever quotes a value from the file.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { LineCounter, parseDocument } from 'yaml';
import { parseConfigText } from '../config/file.js';
import type { KeyName } from '../config/keys.js';
import type { Layer, LayerEntry } from '../config/settings.js';
import { nearest } from '../config/suggest.js';
import { ConfigError, errnoCode } from '../errors.js';
import { MimeFormatError, looksLikeMime, parseMime } from './mime.js';

export const DEFAULT_USER_DATA_PATH = '/var/lib/cloud/instance/user-data.txt';

/** The keys a `pacha:` mapping may hold, and the setting each one becomes (hostname: identity). */
const PACHA_KEY_SETTINGS = {
  hostname: undefined,
  config: undefined,
  ssh_key: 'pacha.ssh.private_key',
  master_host_key: 'pacha.ssh.host_key',
  ssm_path: 'pacha.ssm.path',
} as const satisfies Record<string, KeyName | undefined>;
type PachaKey = keyof typeof PACHA_KEY_SETTINGS;
export const USER_DATA_KEYS = Object.keys(PACHA_KEY_SETTINGS) as PachaKey[];

export type UserData =
  /** No file at the path: not an error, boot goes on with the other sources. */
  | { status: 'absent'; path: string }
  /** A file, but no `#cloud-config` part with a `pacha:` mapping. */
  | { status: 'none'; path: string; parts: number }
  | {
      status: 'found';
      path: string;
      /** Kept apart from the layer: identity ranks it above pacha.hostname. */
      hostname: string | undefined;
      layer: Layer;
      /** Which part held the mapping ("a.yaml", "part 2"), for the boot report. */
      part: string | undefined;
    };

// Decompressed user data beyond this is a gzip bomb, not configuration (EC2 allows 16 KiB).
const MAX_DECOMPRESSED = 64 * 1024 * 1024;
const MAX_NESTING = 4;
const GZIP_TYPES = new Set([
  'application/gzip',
  'application/gzip-compressed',
  'application/gzipped',
  'application/x-compress',
  'application/x-compressed',
  'application/x-gunzip',
  'application/x-gzip',
  'application/x-gzip-compressed',
]);
// Types whose real type cloud-init guesses from the first line.
const UNTYPED = new Set(['text/plain', 'text/x-not-multipart']);

export function userDataOrigin(path: string): string {
  return `user-data:${path}`;
}

/** Read and interpret the user data file. */
export async function loadUserData(path: string = DEFAULT_USER_DATA_PATH): Promise<UserData> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'absent', path };
    if (code === 'EACCES') {
      throw new ConfigError(`cannot read user data ${path}: permission denied`, { hint: 'run pacha boot as root', cause: error });
    }
    if (code === 'EISDIR') throw new ConfigError(`user data ${path} is a directory, not a file`, { cause: error });
    throw error;
  }
  return parseUserData(data, path);
}

interface CloudConfigPart {
  /** "a.yaml", "part 2"; undefined for plain (single-document) user data. */
  name: string | undefined;
  text: string;
}

/** Interpret user data bytes read from `path` (named in messages and origins). Pure. */
export function parseUserData(data: Buffer, path: string): UserData {
  const fail = (problem: string, hint?: string): never => {
    throw new ConfigError(`user data ${path}: ${problem}`, {
      code: 'EUSERDATA',
      hint: hint ?? 'fix the user data (check it with `cloud-init schema --config-file FILE`)',
    });
  };
  let parts: CloudConfigPart[];
  let count: number;
  try {
    ({ parts, count } = cloudConfigParts(data, undefined, 0));
  } catch (error) {
    if (error instanceof MimeFormatError || error instanceof GzipError) fail(error.message);
    throw error;
  }

  const found: Array<{ part: CloudConfigPart; pacha: unknown }> = [];
  for (const part of parts) {
    const where = part.name ? ` (${part.name})` : '';
    const lines = new LineCounter();
    const document = parseDocument(part.text, { version: '1.1', prettyErrors: false, lineCounter: lines });
    const problem = document.errors[0];
    if (problem) {
      // Position and code only: the YAML's own message may quote the text, which may be a key.
      const { line, col } = lines.linePos(problem.pos[0]);
      const at = ` at line ${line}, column ${col}`;
      fail(`malformed YAML${where}${at} (${problem.code.toLowerCase().replace(/_/g, ' ')})`);
    }
    let content: unknown;
    try {
      content = document.toJS({ maxAliasCount: 100 });
    } catch {
      fail(`YAML${where} cannot be read (too many aliases?)`);
    }
    if (isMapping(content) && Object.hasOwn(content, 'pacha')) found.push({ part, pacha: content.pacha });
  }
  if (found.length === 0) return { status: 'none', path, parts: count };
  if (found.length > 1) {
    const names = found.map(({ part }) => part.name ?? 'the message').join(' and ');
    fail(`two cloud-config parts have a pacha: mapping (${names})`, 'keep pacha: in one #cloud-config part');
  }
  const { part, pacha } = found[0]!;
  const where = part.name ? ` (${part.name})` : '';
  if (!isMapping(pacha)) {
    fail(`pacha:${where} is ${describe(pacha)}, not a mapping`, 'write pacha: followed by indented keys: hostname, config, ssh_key, master_host_key, ssm_path');
  }
  return { status: 'found', path, part: part.name, ...pachaSettings(pacha as Record<string, unknown>, path, where, fail) };
}

function pachaSettings(
  pacha: Record<string, unknown>,
  path: string,
  where: string,
  fail: (problem: string, hint?: string) => never,
): { hostname: string | undefined; layer: Layer } {
  const source = `user data ${path}`;
  const origin = userDataOrigin(path);
  const values = new Map<PachaKey, string>();
  for (const [key, value] of Object.entries(pacha)) {
    if (!Object.hasOwn(PACHA_KEY_SETTINGS, key)) {
      const suggestion = nearest(key, USER_DATA_KEYS);
      fail(
        `unknown key pacha.${key}${where}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
        `pacha: takes ${USER_DATA_KEYS.join(', ')}`,
      );
    }
    if (typeof value !== 'string') fail(`pacha.${key}${where} is ${describe(value)}; it must be text`);
    if ((value as string).trim() === '') fail(`pacha.${key}${where} is empty`);
    values.set(key as PachaKey, value as string);
  }

  const entries: LayerEntry[] = [];
  const notices: Layer['notices'] = [];
  const config = values.get('config');
  if (config !== undefined) {
    const parsed = parseConfigText(config, source, origin);
    entries.push(...parsed.entries);
    notices.push(...(parsed.notices ?? []));
  }
  for (const [key, setting] of Object.entries(PACHA_KEY_SETTINGS) as Array<[PachaKey, KeyName | undefined]>) {
    const value = values.get(key);
    if (setting === undefined || value === undefined) continue;
    if (entries.some((entry) => entry.key === setting)) {
      fail(`${setting} is set twice${where}: by pacha.${key} and in pacha.config`, `keep one of them`);
    }
    entries.push({ key: setting, raw: key === 'ssh_key' ? value : value.trim(), origin });
  }
  const hostname = values.get('hostname')?.trim();
  return { hostname, layer: { source, entries, notices } };
}

class GzipError extends Error {
  override name = 'GzipError';
}

/** The cloud-config documents in user data, and how many parts it had in all. */
function cloudConfigParts(data: Buffer, name: string | undefined, depth: number): { parts: CloudConfigPart[]; count: number } {
  if (depth > MAX_NESTING) throw new GzipError('compressed or nested user data deeper than makes sense');
  if (isGzip(data)) return cloudConfigParts(gunzip(data, name), name, depth + 1);
  if (!looksLikeMime(data)) {
    return { parts: startsWithCloudConfig(data) ? [{ name, text: data.toString('utf8') }] : [], count: 1 };
  }
  const parts: CloudConfigPart[] = [];
  let count = 0;
  parseMime(data).forEach((part, index) => {
    const partName = part.filename ?? `part ${index + 1}`;
    if (GZIP_TYPES.has(part.contentType) || isGzip(part.body)) {
      const inner = cloudConfigParts(gunzip(part.body, partName), partName, depth + 1);
      parts.push(...inner.parts);
      count += inner.count;
      return;
    }
    count += 1;
    const isCloudConfig =
      part.contentType === 'text/cloud-config' || (UNTYPED.has(part.contentType) && startsWithCloudConfig(part.body));
    if (isCloudConfig) parts.push({ name: partName, text: part.body.toString('utf8') });
  });
  return { parts, count };
}

function isGzip(data: Buffer): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

function gunzip(data: Buffer, name: string | undefined): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: MAX_DECOMPRESSED });
  } catch (error) {
    throw new GzipError(`${name ? `${name}: ` : ''}gzip data cannot be decompressed (${errnoCode(error) ?? 'corrupt'})`);
  }
}

// cloud-init compares the start case-insensitively after leading blanks.
function startsWithCloudConfig(data: Buffer): boolean {
  return /^\s*#cloud-config(?![-\w])/i.test(data.subarray(0, 64).toString('utf8'));
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Map);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}
