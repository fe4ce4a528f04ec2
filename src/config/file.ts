// /etc/pacha.conf: INI, keys in [DEFAULT] or before any section (the original's format).
// Read line by line rather than with the `ini` package: that package turns `null`/`true`
// into non-strings, nests dotted section names and drops text after any `;` or `#`, which
// loses or mangles pacha's dotted keys and values such as `/srv/a#b`.
import { readFile } from 'node:fs/promises';
import { ConfigError, errnoCode } from '../errors.js';
import type { Layer, LayerEntry, Notice } from './settings.js';

export const DEFAULT_CONFIG_PATH = '/etc/pacha.conf';

const DEFAULT_SECTIONS = new Set(['DEFAULT', 'default']);

/** `value ; comment` or `value # comment`: a comment starts after whitespace only. */
function valueText(text: string): string {
  const value = text.replace(/\s[;#].*$/s, '').trim();
  const quoted = /^(["'])(.*)\1$/s.exec(value);
  return quoted ? quoted[2]! : value;
}

/** Parse pacha.conf text into a layer. Pure; a line that is not `key = value` is a ConfigError. */
export function parseConfigText(text: string, source: string, origin: string): Layer {
  const entries: LayerEntry[] = [];
  const ignoredSections: string[] = [];
  let section: string | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const header = /^\[(.*)\]$/.exec(trimmed);
    if (header) {
      section = header[1]!.trim();
      if (!DEFAULT_SECTIONS.has(section) && !ignoredSections.includes(section)) ignoredSections.push(section);
      return;
    }
    const delimiter = trimmed.search(/[=:]/);
    if (delimiter <= 0) {
      // The line itself is not quoted back: it could be a secret missing its '='.
      throw new ConfigError(`${source}, line ${index + 1}: not a \`key = value\` line, a [section] or a comment`, {
        code: 'EBADLINE',
        hint: 'write each setting as `pacha.key = value` (lines starting with # or ; are comments)',
      });
    }
    if (section !== undefined && !DEFAULT_SECTIONS.has(section)) return;
    // Keys are case-insensitive, as in the original's ConfigParser.
    entries.push({ key: trimmed.slice(0, delimiter).trim().toLowerCase(), raw: valueText(trimmed.slice(delimiter + 1)), origin });
  });
  const notices: Notice[] = ignoredSections.map((name) => ({
    level: 'warn' as const,
    message: `${source}: section [${name}] is ignored; pacha reads keys in [DEFAULT] or before any section`,
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
