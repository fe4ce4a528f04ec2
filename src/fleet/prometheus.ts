// The fleet as a node_exporter textfile (Prometheus text exposition format 0.0.4), written by
// the format's rules: HELP and TYPE once per family, label values escaped (\\, \", \n), one
// sample per line, a final newline. The state is a state set: one sample per state, 1 for the
// host's state and 0 for the others, so `pacha_host_state{state="stale"} == 1` alerts.
// Building the text is pure; the file is written atomically (a hidden temp file beside it,
// renamed over it), so the collector never reads half of one.
import { writeFileAtomic } from '../fs/atomic.js';
import { STATES, type HostRow } from './state.js';

interface Family {
  name: string;
  help: string;
  samples: Array<{ labels: Record<string, string>; value: number }>;
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatFamily(family: Family): string[] {
  const lines = [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} gauge`];
  for (const sample of family.samples) {
    const labels = Object.entries(sample.labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
    lines.push(`${family.name}${labels.length ? `{${labels.join(',')}}` : ''} ${formatValue(sample.value)}`);
  }
  return lines;
}

const seconds = (time: string | null): number | undefined => (time === null ? undefined : Date.parse(time) / 1000);

/** The textfile for these rows, read at nowMs. */
export function prometheusText(rows: HostRow[], nowMs: number): string {
  const perHost = (value: (r: HostRow) => number | undefined) =>
    rows.flatMap((r) => {
      const v = value(r);
      return v === undefined ? [] : [{ labels: { host: r.host }, value: v }];
    });
  const families: Family[] = [
    {
      name: 'pacha_host_last_push_timestamp_seconds',
      help: "Committer time of the newest commit of the host's repositories on the master (absent: never pushed).",
      samples: perHost((r) => seconds(r.lastPush)),
    },
    {
      name: 'pacha_host_last_heartbeat_timestamp_seconds',
      help: "Time of the host daemon's newest heartbeat (refs/pacha/heartbeat; absent: none ever).",
      samples: perHost((r) => seconds(r.heartbeat)),
    },
    {
      name: 'pacha_host_state',
      help: `The host's state, one sample per state (${STATES.join(', ')}): 1 for the current one.`,
      samples: rows.flatMap((r) => STATES.map((state) => ({ labels: { host: r.host, state }, value: r.state === state ? 1 : 0 }))),
    },
    { name: 'pacha_host_commits_24h', help: 'Commits the host pushed in the last 24 hours.', samples: perHost((r) => r.commits24h) },
    { name: 'pacha_host_paths', help: 'Tracked paths (repositories) the host has on the master.', samples: perHost((r) => r.paths.length) },
    { name: 'pacha_fleet_read_timestamp_seconds', help: 'When pacha fleet read the master.', samples: [{ labels: {}, value: Math.floor(nowMs / 1000) }] },
  ];
  return `${families.flatMap(formatFamily).join('\n')}\n`;
}

export async function writePrometheusFile(file: string, rows: HostRow[], nowMs: number): Promise<void> {
  await writeFileAtomic(file, prometheusText(rows, nowMs), 0o644);
}
