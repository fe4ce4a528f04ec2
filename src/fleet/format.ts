// `pacha fleet` for people: one line per host, bad news first, and under a host that is not
// ok, why. Pure.
import { formatAge, STATES, type HostRow, type HostState } from './state.js';

function age(time: string | null, nowMs: number): string {
  return time ? `${formatAge(nowMs - Date.parse(time))} ago` : 'never';
}

function table(lines: string[][]): string[] {
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((cell, i) => (i === l.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

export function formatFleet(rows: HostRow[], nowMs: number): string[] {
  if (rows.length === 0) return ['no hosts on the master yet'];
  const header = ['STATE', 'HOST', 'LAST PUSH', 'HEARTBEAT', 'INSTANCE', 'BOOT', '24H', 'PATHS'];
  const body = rows.map((r) => [
    r.state,
    r.host,
    age(r.lastPush, nowMs),
    age(r.heartbeat, nowMs),
    r.instance ?? '-',
    r.boot ? r.boot.slice(0, 8) : '-',
    String(r.commits24h),
    r.paths.map((p) => `${p.name} (${age(p.lastPush, nowMs)})`).join(', ') || '-',
  ]);
  const lines = table([header, ...body]);
  const out = [lines[0]!];
  rows.forEach((r, i) => {
    out.push(lines[i + 1]!);
    for (const reason of r.reasons) out.push(`    ${reason}`);
  });
  return out;
}

export function formatSummary(counts: Record<HostState, number>, total: number): string {
  const parts = STATES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  return `${total} host${total === 1 ? '' : 's'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}
