// The configuration reference as a Markdown table, from the key table: the README's section
// is this text (a test keeps them equal), and `pacha config --reference` prints it.
import { IGNORED_KEYS, KEY_NAMES, envName, keySpec } from './keys.js';
import { formatValue } from './values.js';

export function configReference(): string {
  const rows = KEY_NAMES.map((key) => {
    const spec = keySpec(key);
    const fallback = spec.default === undefined || (Array.isArray(spec.default) && spec.default.length === 0) ? '—' : `\`${formatValue(spec.default)}\``;
    const unit = spec.unit ? ` (${spec.unit})` : '';
    return `| \`${key}\` | ${fallback}${unit} | \`${envName(key)}\` | ${spec.help.replace(/\|/g, '\\|')} |`;
  });
  const ignored = Object.entries(IGNORED_KEYS).map(([key, why]) => `\`${key}\` (${why})`);
  return [
    '| key | default | environment | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
    `Accepted from the original Pacha and ignored with a notice: ${ignored.join('; ')}.`,
  ].join('\n');
}
