// `pacha rebuild [HOST]` (alias --rebuild HOST): confirmation, progress and the summary.
import { createInterface } from 'node:readline/promises';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/atomic.js';
import type { Master } from '../../master/master.js';
import type { Plan } from '../../rebuild/plan.js';
import { rebuild, type RebuildEvents, type RebuildReport } from '../../rebuild/rebuild.js';
import type { Context } from '../context.js';
import { formatBytes, type Output } from '../output.js';

export interface RebuildCommandOptions {
  directory?: string;
  dryRun?: boolean;
  yes?: boolean;
}

/** The seed's confirmation; refuses instead of hanging when nobody can answer. */
async function confirm(context: Context, master: Master, host: string): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new UsageError(`refusing to rebuild ${host} without confirmation: standard input is not a terminal`, {
      hint: 'pass --yes to rebuild unattended (or --dry-run to see the plan)',
    });
  }
  const { settings } = context;
  const remote = settings.get('pacha.host') === 'local';
  process.stdout.write(
    [
      `SSH Connection: ${remote ? `local (${master.hostsPath})` : `${settings.get('pacha.ssh.user')}@${settings.get('pacha.host')}`}`,
      `SSH Port:       ${remote ? '-' : settings.get('pacha.ssh.port')}`,
      `Host to rebuild: ${host}`,
      'Hit Enter to confirm or Ctrl-C to cancel',
      '',
    ].join('\n'),
  );
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    await prompt.question('');
  } finally {
    prompt.close();
  }
}

function printPlan(out: Output, plan: Plan): void {
  const c = plan.counts;
  out.say(`plan ${plan.repository} -> ${plan.targetRoot}: ${c.create} create, ${c.replace} replace, ${c['update-metadata']} metadata, ${c.unchanged} unchanged${c.skip ? `, ${c.skip} skipped` : ''}`);
  for (const entry of plan.entries) {
    if (entry.action === 'unchanged') continue;
    out.say(`  ${entry.action.padEnd(15)} ${entry.path}${entry.reason ? `  (${entry.reason})` : ''}`);
  }
  for (const extra of plan.extras) out.say(`  ${'extra'.padEnd(15)} ${extra}  (not in the repository; left alone)`);
  for (const o of plan.ownersNotFound) out.say(`  owner not found: ${o.kind} ${o.name || '(no name)'}; the recorded id ${o.id} will be used`);
}

function events(context: Context, dryRun: boolean): RebuildEvents {
  const { out } = context;
  let placedBytes = 0;
  return {
    staged: (r, files, bytes) => out.say(`fetched ${r.name}: ${files} entries, ${formatBytes(bytes)} (${r.metadata.location})`),
    planned: (plan) => {
      if (dryRun || context.options.verbose) printPlan(out, plan);
    },
    hooksSkipped: (phase, skipped) => skipped.forEach((s) => out.say(`skipping pacha_${phase}/${s.name}: ${s.reason}`)),
    hookOutput: (phase, name, stream, line) => out.say(`[pacha_${phase}/${name}${stream === 'stderr' ? ' !' : ''}] ${line}`),
    hookDone: (phase, r) =>
      out.say(`hook pacha_${phase}/${r.name}: ${r.timedOut ? 'timed out' : r.exitCode === 0 ? 'ok' : `exit ${r.exitCode ?? r.signal}`} (${Math.round(r.durationMs)} ms)`),
    placing: (p) => {
      placedBytes += p.bytes;
      out.progress(`placing ${p.repository}: ${p.path} (${formatBytes(placedBytes)})`);
    },
    placed: (r) => {
      out.endProgress();
      out.say(`placed ${r.repository} at ${r.targetRoot}: ${r.written} written, ${r.metadataUpdated} metadata fixed, ${r.unchanged} unchanged, ${r.backedUp} backed up, ${formatBytes(r.bytes)}`);
    },
    registered: (name, location, outcome) => {
      if (outcome === 'kept-local') out.warn(`${location} has local commits the master lacks: its local history is kept (push it with \`pacha push\`)`);
      else if (outcome === 'not-registered') out.debug(`${name}: rebuilt under --root; not tracked from this system`);
    },
  };
}

function summary(out: Output, report: RebuildReport): void {
  const written = report.placed.reduce((n, p) => n + p.written + p.metadataUpdated, 0);
  const backups = report.placed.flatMap((p) => p.backups);
  const hooks = report.hooks.length;
  const failedHooks = report.hooks.filter((h) => h.exitCode !== 0).length;
  out.say(
    `rebuilt ${report.host} from ${report.master} in ${(report.durationMs / 1000).toFixed(1)} s: ` +
      `${report.placed.length} path${report.placed.length === 1 ? '' : 's'}, ${written} entries written, ` +
      `${hooks} hook${hooks === 1 ? '' : 's'}${failedHooks ? ` (${failedHooks} failed)` : ''}` +
      `${backups.length ? `, ${backups.length} displaced entries kept in ${path.dirname(path.dirname(backups[0]!))}` : ''}`,
  );
  for (const problem of report.problems) out.warn(problem);
}

export async function rebuildCommand(context: Context, hostArgument: string | undefined, options: RebuildCommandOptions): Promise<number> {
  const host = hostArgument ?? context.hostName();
  const master = await context.master();
  if (!options.dryRun && !options.yes) await confirm(context, master, host);
  const report = await rebuild({
    master,
    store: await context.store(),
    host,
    stateDir: context.stateDir,
    root: context.root,
    ...(options.directory ? { directory: options.directory } : {}),
    dryRun: Boolean(options.dryRun),
    hooksTimeoutSeconds: context.settings.require('pacha.hooks.timeout'),
    events: events(context, Boolean(options.dryRun)),
  });
  if (options.dryRun) {
    context.out.say('dry run: nothing was touched');
  } else {
    summary(context.out, report);
    const file = path.join(context.stateDir, 'reports', `rebuild-${report.startedAt.replace(/[:.]/g, '-')}.json`);
    await writeFileAtomic(file, `${JSON.stringify(report, null, 2)}\n`, 0o600);
    context.out.debug(`report written to ${file}`);
  }
  context.out.result({ ok: report.exitCode === 0, ...report });
  return report.exitCode;
}
