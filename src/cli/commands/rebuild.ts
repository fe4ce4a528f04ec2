// `pacha rebuild [HOST]` (alias --rebuild HOST): confirmation, progress and the summary.
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ExitCode, UsageError } from '../../errors.js';
import type { Master } from '../../master/master.js';
import { chooseMasters, forgetPrimaryAcknowledgement, type MasterChoice } from '../../rebuild/choose-master.js';
import { rebuild, type RebuildEvents } from '../../rebuild/rebuild.js';
import { rebuildV8Settings } from '../../rebuild/v8-settings.js';
import { writeRebuildReport, rebuildRecordJSON } from '../../rebuild/report-file.js';
import {
  formatBytes,
  formatPlan,
  formatReport,
  formatRepositoryLine,
  hookDoneLine,
  hookOutputLine,
  notRestoredLine,
  planToJSON,
  repositoryReport,
} from '../../rebuild/report.js';
import type { Context } from '../../context.js';

export interface RebuildCommandOptions {
  directory?: string;
  dryRun?: boolean;
  yes?: boolean;
}

/** The seed's confirmation; refuses instead of hanging when nobody can answer. */
async function confirm(master: Master, host: string, choice: MasterChoice | undefined): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new UsageError(`refusing to rebuild ${host} without confirmation: standard input is not a terminal`, {
      hint: 'pass --yes to rebuild unattended (or --dry-run to see the plan)',
    });
  }
  // Several masters: the master each path comes from (the choice's lines), not the raw list.
  const from = choice ? ['Masters (each path from the newest history):', ...choice.lines.map((line) => `  ${line}`)] : [`Master:          ${master.label}`];
  process.stdout.write(
    [
      ...from,
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

function events(context: Context, dryRun: boolean): RebuildEvents {
  const { out } = context;
  let placedBytes = 0;
  return {
    staged: (r, files, bytes) => out.say(`fetched ${r.name}: ${files} entries, ${formatBytes(bytes)} (${r.metadata.location})`),
    planned: (plan) => {
      if (!dryRun && context.options.verbose) out.say(formatPlan([plan]));
    },
    hooksSkipped: (phase, skipped) => skipped.forEach((s) => out.say(`skipping pacha_${phase}/${s.name}: ${s.reason}`)),
    hookOutput: (phase, name, stream, line) => out.say(hookOutputLine(phase, name, stream, line)),
    hookDone: (phase, r) => out.say(hookDoneLine(phase, r, { duration: true })),
    placing: (p) => {
      placedBytes += p.bytes;
      out.progress(`placing ${p.repository}: ${p.path} (${formatBytes(placedBytes)})`);
    },
    placed: (r) => {
      out.endProgress();
      out.say(`placed ${formatRepositoryLine(repositoryReport(r))}`);
    },
    registered: (name, location, outcome) => {
      if (outcome === 'kept-local') out.warn(`${location} has local commits the master lacks: its local history is kept (push it with \`pacha push\`)`);
      else if (outcome === 'not-registered') out.debug(`${name}: rebuilt under --root; not tracked from this system`);
    },
  };
}

export async function rebuildCommand(context: Context, hostArgument: string | undefined, options: RebuildCommandOptions): Promise<number> {
  rebuildV8Settings(); // the process is the rebuild's (rebuild/v8-settings.ts)
  const host = hostArgument ?? context.hostName();
  const primary = await context.master();
  // Several masters: each path from the reachable one with the newest history, said (and
  // shown in the confirmation before anything is touched).
  const others = (await context.otherMasters()).map((o) => o.master);
  const choice = others.length > 0 ? await chooseMasters([primary, ...others], host) : undefined;
  const confirming = !options.dryRun && !options.yes;
  if (confirming) await confirm(primary, host, choice);
  else for (const line of choice?.lines ?? []) context.out.say(line);
  const store = await context.store();
  const outcome = await rebuild({
    master: choice?.first ?? primary,
    ...(choice ? { choice } : {}),
    store,
    host,
    stateDir: context.stateDir,
    root: context.root,
    ...(options.directory ? { directory: options.directory } : {}),
    dryRun: Boolean(options.dryRun),
    tracked: context.settings.get('pacha.watch') ?? [],
    hooksTimeoutSeconds: context.settings.require('pacha.hooks.timeout'),
    events: events(context, Boolean(options.dryRun)),
  });
  if (outcome.dryRun) {
    context.out.say(formatPlan(outcome.plans));
    if (outcome.notRestored.length) context.out.say(['Would NOT restore:', ...outcome.notRestored.map(notRestoredLine)].join('\n'));
    context.out.result({ ok: true, dryRun: true, host, plans: planToJSON(outcome.plans), notRestored: outcome.notRestored });
    return outcome.notRestored.length ? ExitCode.partial : 0;
  }
  const { report, registered } = outcome;
  if (choice && path.resolve(context.root) === '/') await forgetPrimaryAcknowledgement(store, choice, primary, registered.filter((r) => r.outcome === 'tracked').map((r) => r.name));
  context.out.say(formatReport(report));
  const file = await writeRebuildReport(context.stateDir, outcome);
  context.out.debug(`report written to ${file}`);
  context.out.result({ ok: report.exitCode === 0, ...rebuildRecordJSON(outcome), ...(choice ? { masters: choice.lines } : {}) });
  return report.exitCode;
}
