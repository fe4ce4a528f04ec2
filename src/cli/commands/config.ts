// `pacha config` (alias --config-values): every key, its value and its origin; secrets redacted.
import { configReference } from '../../config/reference.js';
import type { Context } from '../../context.js';

export async function configCommand(context: Context, options: { check?: boolean; reference?: boolean }): Promise<number> {
  const { settings, out } = context;
  if (options.reference) {
    out.say(configReference());
    return 0;
  }
  const file = settings.configFile;
  const entries = settings.entries();
  out.result({ configFile: file, keys: entries.map(({ key, value, origin }) => ({ key, value, origin })) });
  if (options.check) {
    out.say(`${file?.path ?? 'configuration'}: ${file?.found === false ? 'not found; defaults and environment are valid' : 'valid'}`);
    return 0;
  }
  out.say(`# config file: ${file?.path}${file?.found ? '' : ' (not found)'}`);
  const width = Math.max(...entries.map((e) => e.key.length));
  for (const { key, value, origin } of entries) {
    out.say(`${key.padEnd(width)} = ${value}${' '.repeat(Math.max(1, 28 - value.length))}# ${origin}`);
  }
  return 0;
}
