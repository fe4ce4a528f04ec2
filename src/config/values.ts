// Parsing and validating one raw (string) value of a key. Pure: no I/O.
import path from 'node:path';
import { checkHostName } from './hostname.js';
import { keySpec, type KeyName, type KindTypes, type ValueOf } from './keys.js';
import { masterEntries, masterEntryProblem } from './master-list.js';

export { checkHostName } from './hostname.js';

/** Thrown by parseValue; the caller adds where the value came from. */
export class InvalidValue extends Error {
  override name = 'InvalidValue';
}

const LEVELS = ['error', 'warn', 'info', 'debug'] as const;
/** pacha.host: one master or a comma-separated list (master-list.ts says what an entry may be). */
function checkMaster(value: string): string | undefined {
  if (value.trim() === '') return 'is empty';
  const entries = masterEntries(value);
  for (const entry of entries) {
    const problem = masterEntryProblem(entry);
    if (problem) return entries.length > 1 ? `has a bad entry: ${problem}` : problem.replace(/^'[^']*' /, '');
  }
  if (new Set(entries).size !== entries.length) return 'names one master twice';
  return undefined;
}

function absolutePath(raw: string): string {
  if (!path.isAbsolute(raw)) throw new InvalidValue(`'${raw}' is not an absolute path`);
  return path.normalize(raw).replace(/(.)\/$/, '$1');
}

const parsers: { [K in keyof KindTypes]: (raw: string, name: KeyName) => KindTypes[K] } = {
  string: (raw) => raw,
  secret: (raw) => raw,
  path: absolutePath,
  integer: (raw, name) => {
    if (!/^-?\d+$/.test(raw)) throw new InvalidValue(`'${raw}' is not a whole number`);
    const n = Number(raw);
    const min = keySpec(name).min;
    if (min !== undefined && n < min) throw new InvalidValue(`${n} is below the minimum ${min}`);
    return n;
  },
  port: (raw) => {
    if (!/^\d+$/.test(raw)) throw new InvalidValue(`'${raw}' is not a port number`);
    const n = Number(raw);
    if (n < 1 || n > 65535) throw new InvalidValue(`${n} is not a port number (1-65535)`);
    return n;
  },
  boolean: (raw) => {
    const v = raw.toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(v)) return true;
    if (['false', 'no', 'off', '0'].includes(v)) return false;
    throw new InvalidValue(`'${raw}' is not true or false`);
  },
  // Relative paths would depend on the daemon's working directory: refused.
  paths: (raw) =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map(absolutePath),
  // gitignore patterns: checked again by the matcher (src/store/ignore.ts) at use.
  patterns: (raw) => {
    const list = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const bad = list.find((p) => p.includes('\0'));
    if (bad !== undefined) throw new InvalidValue('a pattern contains a NUL byte');
    return list;
  },
  master: (raw) => {
    const problem = checkMaster(raw);
    if (problem) throw new InvalidValue(`'${raw}' ${problem}`);
    return raw;
  },
  hostname: (raw) => {
    const problem = checkHostName(raw);
    if (problem) throw new InvalidValue(`'${raw}' ${problem}`);
    return raw;
  },
  level: (raw) => {
    const v = raw.toLowerCase();
    if (!(LEVELS as readonly string[]).includes(v)) throw new InvalidValue(`'${raw}' is not one of ${LEVELS.join(', ')}`);
    return v as KindTypes['level'];
  },
  choice: (raw, name) => {
    const choices = keySpec(name).choices ?? [];
    const v = raw.toLowerCase();
    if (!choices.includes(v)) throw new InvalidValue(`'${raw}' is not one of ${choices.join(', ')}`);
    return v;
  },
};

/** Parse a raw string for key `name`; throws InvalidValue saying what is wrong. */
export function parseValue<N extends KeyName>(name: N, raw: string): ValueOf<N> {
  const kind = keySpec(name).kind;
  const parse = parsers[kind] as (raw: string, name: KeyName) => ValueOf<N>;
  return parse(raw.trim(), name);
}

/** A value as text, for `pacha config` and the README. */
export function formatValue(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}
