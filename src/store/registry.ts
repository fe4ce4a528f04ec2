// The list of tracked paths: <state>/tracked.json, written atomically.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { OperationError, errnoCode } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { crypto } from '../lazy-builtins.js';

export interface TrackedEntry {
  location: string;
  name: string;
  single: boolean;
  /** `pacha watch PATH --ignore PATTERN…` and `pacha forget`: gitignore-style, anchored at location. */
  ignore?: string[];
}

export interface Registry {
  version: 1;
  paths: TrackedEntry[];
}

export const RESERVED_NAMES = new Set(['pacha_pre', 'pacha_post', 'db']);

export function registryFile(stateDir: string): string {
  return path.join(stateDir, 'tracked.json');
}

export async function readRegistry(stateDir: string): Promise<Registry> {
  const file = registryFile(stateDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { version: 1, paths: [] };
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Registry;
    if (!Array.isArray(parsed.paths)) throw new Error('no "paths" list');
    return parsed;
  } catch (error) {
    throw new OperationError('EREGISTRY', `${file} is damaged: ${(error as Error).message}`, {
      hint: `move it aside and run \`pacha rebuild\` or \`pacha watch\` again; the history is safe in ${path.join(stateDir, 'repos')}`,
    });
  }
}

export async function writeRegistry(stateDir: string, registry: Registry): Promise<void> {
  await writeFileAtomic(registryFile(stateDir), `${JSON.stringify(registry, null, 2)}\n`, 0o600);
}

/** A name safe as one path component on the master and in a URL. */
export function sanitizeName(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.-]+/, '_');
  return cleaned.length > 0 ? cleaned : 'root';
}

/**
 * The repository name of a tracked path on the master: its basename, as in the seed
 * (/opt/foo -> foo). When another tracked path holds that name, the whole path
 * (/etc/foo -> etc-foo), then that plus a hash of the path: deterministic, never shared.
 */
export function chooseName(location: string, taken: ReadonlySet<string>): string {
  const base = sanitizeName(path.basename(location));
  const full = sanitizeName(location.split('/').filter(Boolean).join('-'));
  const hashed = `${full}-${crypto().createHash('sha256').update(location).digest('hex').slice(0, 8)}`;
  for (const candidate of [base, full, hashed]) {
    if (!taken.has(candidate) && !RESERVED_NAMES.has(candidate)) return candidate;
  }
  return hashed;
}
