// `pacha fleet`: every host on the master at a glance. Exit 0 when every host is ok, else 1.
import path from 'node:path';
import { writeFileAtomic } from '../../fs/atomic.js';
import { formatFleet, formatSummary } from '../../fleet/format.js';
import { fleetHtml } from '../../fleet/html.js';
import { writePrometheusFile } from '../../fleet/prometheus.js';
import { readFleet } from '../../fleet/read.js';
import { countStates, fleetExitCode, fleetRows, formatAge } from '../../fleet/state.js';
import type { Context } from '../../context.js';
import { sayWhichMaster } from './which-master.js';

export interface FleetOptions {
  prometheus?: string;
  html?: string;
}

/** A master whose clock is this far from ours makes every age wrong: say so. */
const CLOCK_SKEW_MS = 5 * 60_000;

export async function fleetCommand(context: Context, options: FleetOptions = {}): Promise<number> {
  const master = await context.master();
  sayWhichMaster(context, master, 'fleet read');
  const nowMs = Date.now();
  const snapshot = await readFleet(master, nowMs);
  const staleAfterSeconds = context.settings.require('pacha.fleet.stale_after');
  const rows = fleetRows(snapshot, nowMs, staleAfterSeconds * 1000);
  const counts = countStates(rows);
  const skew = snapshot.masterTime * 1000 - nowMs;
  if (snapshot.masterTime && Math.abs(skew) > CLOCK_SKEW_MS) {
    context.out.warn(`the master's clock is ${formatAge(Math.abs(skew))} ${skew > 0 ? 'ahead of' : 'behind'} this machine's: ages are by this machine's clock`);
  }
  if (options.prometheus) {
    const file = path.resolve(options.prometheus);
    await writePrometheusFile(file, rows, nowMs);
    context.out.info(`wrote ${file}`);
  }
  if (options.html) {
    const file = path.resolve(options.html);
    await writeFileAtomic(file, fleetHtml(rows, { master: master.label, nowMs, counts }), 0o644);
    context.out.info(`wrote ${file}`);
  }
  for (const line of formatFleet(rows, nowMs)) context.out.say(line);
  context.out.say(formatSummary(counts, rows.length));
  const exitCode = fleetExitCode(rows);
  context.out.result({
    ok: exitCode === 0,
    master: master.label,
    readAt: new Date(nowMs).toISOString(),
    staleAfterSeconds,
    counts,
    hosts: rows,
  });
  return exitCode;
}
