// What `pacha boot` learned from user data, SSM and the instance, kept in the state dir so
// that every later command (`pacha status`, `pacha push`, `pacha rollback` …) talks to the
// same master as the boot did. Secrets are never saved: the private key is already a file
// (pacha.ssh.key points at it).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../fs/atomic.js';
import { isKeyName, isSecret } from './keys.js';
import type { Layer, Settings } from './settings.js';

export const BOOT_SETTINGS_FILE = 'boot-settings.json';

/** Origins a plain command cannot see again by itself. */
const BOOT_ONLY = /^(user-data|ssm|imds|instance-data|system):/;

interface Saved {
  version: 1;
  written: string;
  values: Array<{ key: string; raw: string; origin: string }>;
  /** The instance id (IMDS, else cloud-init's instance data), for the Pacha-Instance trailer. */
  instance?: string;
}

export async function saveBootSettings(stateDir: string, settings: Settings, facts: { instance?: string | undefined } = {}): Promise<void> {
  const values = settings
    .entries()
    .filter((e) => !e.secret && BOOT_ONLY.test(e.origin))
    .map(({ key, value, origin }) => ({ key, raw: value, origin }));
  const saved: Saved = { version: 1, written: new Date().toISOString(), values, ...(facts.instance ? { instance: facts.instance } : {}) };
  await ensurePrivateDir(stateDir);
  await writeFileAtomic(path.join(stateDir, BOOT_SETTINGS_FILE), `${JSON.stringify(saved, null, 2)}\n`, 0o600);
}

async function readSaved(stateDir: string): Promise<Saved | undefined> {
  try {
    return JSON.parse(await readFile(path.join(stateDir, BOOT_SETTINGS_FILE), 'utf8')) as Saved;
  } catch {
    return undefined;
  }
}

/** The instance id the last boot saved; undefined when unknown (no boot, no instance data). */
export async function readBootInstance(stateDir: string): Promise<string | undefined> {
  const instance = (await readSaved(stateDir))?.instance;
  return typeof instance === 'string' && instance !== '' ? instance : undefined;
}

/** The saved boot settings as a layer (above the config file), or undefined when there are none. */
export async function bootSettingsLayer(stateDir: string): Promise<Layer | undefined> {
  const file = path.join(stateDir, BOOT_SETTINGS_FILE);
  let saved: Saved;
  try {
    saved = JSON.parse(await readFile(file, 'utf8')) as Saved;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'EACCES') return undefined;
    return { source: file, entries: [], notices: [{ level: 'warn', message: `${file} is unreadable and was ignored; \`pacha boot\` writes it again` }] };
  }
  const entries = (saved.values ?? [])
    .filter((v) => isKeyName(v.key) && !isSecret(v.key))
    .map((v) => ({ key: v.key, raw: v.raw, origin: `${v.origin} (saved by pacha boot)` }));
  return { source: file, entries };
}
