// /etc/pacha.conf: INI, keys in [DEFAULT] or before any section (the original's format).
import { readFile } from 'node:fs/promises';
import ini from 'ini';
import { ConfigError, errnoCode } from '../errors.js';
import type { Layer, LayerEntry, Notice } from './settings.js';

export const DEFAULT_CONFIG_PATH = '/etc/pacha.conf';

/** Parse pacha.conf text into a layer. Pure. */
export function parseConfigText(text: string, source: string, origin: string): Layer {
  const parsed = ini.parse(text) as Record<string, unknown>;
  const entries: LayerEntry[] = [];
  const sections: string[] = [];
  const add = (key: string, value: unknown): void => {
    entries.push({ key, raw: value === true ? 'true' : String(value), origin });
  };
  for (const [key, value] of Object.entries(parsed)) {
    if (value !== null && typeof value === 'object') {
      if (key === 'DEFAULT' || key === 'default') {
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) add(k, v);
      } else {
        sections.push(key);
      }
    } else {
      add(key, value);
    }
  }
  const notices: Notice[] = sections.map((section) => ({
    level: 'warn' as const,
    message: `${source}: section [${section}] is ignored; pacha reads keys in [DEFAULT] or before any section`,
  }));
  return { source, entries, notices };
}

/** Read a config file. Missing: undefined (the caller decides whether that matters). */
export async function loadConfigFile(path: string): Promise<Layer | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') return undefined;
    if (code === 'EACCES') {
      throw new ConfigError(`cannot read ${path}: permission denied`, { hint: 'run pacha as root, or pass -c FILE', cause: error });
    }
    if (code === 'EISDIR') throw new ConfigError(`${path} is a directory, not a config file`, { cause: error });
    throw error;
  }
  return parseConfigText(text, path, `file:${path}`);
}
