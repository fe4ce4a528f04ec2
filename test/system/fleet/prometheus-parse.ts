// A reader of the Prometheus text exposition format (0.0.4), strict enough to refuse what
// node_exporter's textfile collector would: every sample of a family after its TYPE line,
// families not split, label names and values by the format's grammar and escapes, values
// that are floats, no sample twice.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without '='`);
    const name = text.slice(i, eq).trim();
    if (!LABEL.test(name)) throw new Error(`line ${line}: bad label name ${JSON.stringify(name)}`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label value not quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`line ${line}: bad escape \\${next}`);
      } else if (text[j] === '\n') {
        throw new Error(`line ${line}: raw newline in a label value`);
      } else {
        value += text[j];
      }
    }
    if (text[j] !== '"') throw new Error(`line ${line}: unterminated label value`);
    if (Object.hasOwn(labels, name)) throw new Error(`line ${line}: label ${name} twice`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (i < text.length) throw new Error(`line ${line}: expected ',' after a label`);
  }
  return labels;
}

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: value ${JSON.stringify(text)} is not a float`);
  return Number(text);
}

export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the text does not end with a newline');
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  const finished = new Set<string>();
  let current: string | undefined;
  text
    .slice(0, -1)
    .split('\n')
    .forEach((raw, index) => {
      const line = index + 1;
      if (raw.trim() === '') return;
      const comment = /^#\s*(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(raw);
      if (comment) {
        const [, kind, name, rest] = comment as unknown as [string, string, string, string];
        if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
        if (kind === 'TYPE') {
          if (types.has(name)) throw new Error(`line ${line}: second TYPE for ${name}`);
          if (samples.some((s) => s.name === name)) throw new Error(`line ${line}: TYPE of ${name} after its samples`);
          if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`line ${line}: bad type ${rest}`);
          types.set(name, rest);
        } else {
          help.set(name, rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\'));
        }
        return;
      }
      if (raw.startsWith('#')) return;
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/.exec(raw);
      if (!match) throw new Error(`line ${line}: not a sample: ${raw}`);
      const [, name, labelText, valueText] = match as unknown as [string, string, string | undefined, string];
      if (current !== name) {
        if (current !== undefined) finished.add(current);
        if (finished.has(name)) throw new Error(`line ${line}: the family ${name} is split`);
        current = name;
      }
      const labels = labelText ? parseLabels(labelText, line) : {};
      const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
      if (seen.has(key)) throw new Error(`line ${line}: sample ${key} twice`);
      seen.add(key);
      samples.push({ name, labels, value: parseValue(valueText, line) });
    });
  return { types, help, samples };
}
