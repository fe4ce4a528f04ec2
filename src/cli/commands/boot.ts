// `pacha boot`: the image entrypoint (src/boot/boot.ts does the work). Prints what a person
// or a script wants from it: with --dry-run the settings read, the steps, the decision and
// the plan; otherwise the decision and how it ended. With --json, one document on stdout.
import { runBoot, type BootResult } from '../../boot/boot.js';
import { describeStep } from '../../sources/steps.js';
import { guardProcess } from '../../daemon/process-guard.js';
import { Output } from '../../log.js';
import type { GlobalOptions } from '../../context.js';

export interface BootCommandOptions {
  userData?: string;
  instanceData?: string;
  hostname?: string;
  /** false with --no-watch (commander's negated option). */
  watch: boolean;
  forceRebuild?: boolean;
  takeOver?: boolean;
  dryRun?: boolean;
}

export async function bootCommand(globals: GlobalOptions, options: BootCommandOptions): Promise<number> {
  const out = new Output(Boolean(globals.json));
  const dryRun = Boolean(options.dryRun);
  // An outside fault that escapes a handler is logged; boot goes on to its own end (exit 3 at worst).
  const unguard = dryRun ? () => undefined : guardProcess((level, message) => out.log(level, message));
  try {
    return await bootAndWatch(globals, options, out, dryRun);
  } finally {
    unguard();
  }
}

async function bootAndWatch(globals: GlobalOptions, options: BootCommandOptions, out: Output, dryRun: boolean): Promise<number> {
  const result = await runBoot({
    globals,
    userDataPath: options.userData,
    instanceDataPath: options.instanceData,
    hostname: options.hostname,
    watch: options.watch,
    forceRebuild: Boolean(options.forceRebuild),
    takeOver: Boolean(options.takeOver),
    dryRun,
    out,
  });
  if (dryRun) printDryRun(out, result);
  else printOutcome(out, result);
  out.result({ ok: result.exitCode === 0, ...result.report, ...(dryRun ? { settings: result.settings } : {}) });
  if (result.watch) {
    await result.watch();
    return 0;
  }
  return result.exitCode;
}

function printDryRun(out: Output, { report, settings }: BootResult): void {
  out.say(`host: ${report.host} (from ${report.identity})`);
  out.say('settings (not the defaults):');
  for (const s of settings.filter((s) => s.origin !== 'default')) out.say(`  ${s.key} = ${s.value}  # ${s.origin}`);
  out.say('steps:');
  for (const s of report.steps) out.say(`  ${describeStep(s)}`);
  if (report.decision) {
    out.say(`decision: ${report.decision.action}: ${report.decision.reason}`);
    out.say('plan:');
    report.decision.plan.forEach((line, i) => out.say(`  ${i + 1}. ${line}`));
  } else {
    out.say(`decision: none: ${report.error?.message ?? 'the master did not answer'}`);
    out.say('a real boot waits for the master (pacha.boot.timeout), then rebuilds if it has this host, else starts a new host');
  }
  out.say('dry run: nothing was touched');
}

function printOutcome(out: Output, { report }: BootResult): void {
  if (report.decision) out.say(`${report.host}: ${report.decision.action}: ${report.decision.reason}`);
}
