// `pacha boot`: the image entrypoint, read top to bottom as gather → wait → decide → act →
// report. Gather settings and keys (sources/gather.ts: user data, instance data, IMDS, SSM),
// wait for the master (wait.ts), decide (decide.ts, pure), act (rebuild unattended, push what
// changed while down, or start a new host), write the boot report (report.ts), then hand over
// to the daemon in the same process unless --no-watch. Every step lands in the report through
// one recorder (sources/steps.ts).
//
// Nothing on the host is touched before the master has answered: a bad input (exit 2) or a
// master that never answers (exit 3) leaves only the boot report (and the key material the
// sources brought) in the state dir. --dry-run writes nothing at all, not even the report.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Context, GlobalOptions } from '../context.js';
import type { Output } from '../log.js';
import type { KeyName } from '../config/keys.js';
import { KEYS } from '../config/keys.js';
import { loadSettings } from '../config/load.js';
import type { Settings } from '../config/settings.js';
import { ExitCode, isPachaError } from '../errors.js';
import type { Master } from '../master/master.js';
import type { RebuildEvents } from '../rebuild/rebuild.js';
import { hookDoneLine, hookOutputLine, type RebuildReport } from '../rebuild/report.js';
import { saveBootSettings } from '../config/boot-settings.js';
import { gatherBootSettings, type GatherOptions } from '../sources/gather.js';
import { describeStep, stepRecorder, type BootStep, type StepRun } from '../sources/steps.js';
import { readRegistry } from '../store/registry.js';
import type { Store, TrackedPath } from '../store/store.js';
import { forgetPrimaryAcknowledgement, type MasterChoice } from '../rebuild/choose-master.js';
import { decideBoot, type Decision } from './decide.js';
import { summarizeBoot, writeBootReport, type BootReport, type RebuildSummary } from './report.js';
import { bootDropRetry } from './drop-retry.js';
import { waitForMaster } from './wait.js';

export interface BootOptions {
  globals: GlobalOptions;
  userDataPath?: string | undefined;
  instanceDataPath?: string | undefined;
  hostname?: string | undefined;
  /** false with --no-watch. */
  watch: boolean;
  forceRebuild: boolean;
  /** --take-over: claim the host name although another instance holds it (claims.ts). */
  takeOver?: boolean;
  dryRun: boolean;
  out: Output;
  env?: NodeJS.ProcessEnv;
}

/** What boot did, for the command's output. */
export interface BootResult {
  exitCode: number;
  report: BootReport;
  /** Every key with its value and origin, secrets redacted (dry run and --json). */
  settings: Array<{ key: string; value: string; origin: string }>;
  /** Step 9, when it follows: the daemon in this process until SIGTERM. Closes the master after. */
  watch?: () => Promise<void>;
}

export async function runBoot(options: BootOptions): Promise<BootResult> {
  const { out, dryRun } = options;
  const env = options.env ?? process.env;
  const startedAt = new Date();
  const started = performance.now();
  const steps: BootStep[] = [];
  const report = emptyBootReport(startedAt, dryRun, steps);
  const result: BootResult = { exitCode: ExitCode.ok, report, settings: [] };
  const step = stepRecorder(steps);
  const gatherOptions: GatherOptions = {
    ...(options.userDataPath ? { userDataPath: path.resolve(options.userDataPath) } : {}),
    ...(options.instanceDataPath ? { instanceDataPath: path.resolve(options.instanceDataPath) } : {}),
    ...(options.hostname ? { hostname: options.hostname } : {}),
    ...(options.globals.config ? { configPath: options.globals.config } : {}),
    env,
    flags: stateFlag(options.globals),
    dryRun,
  };

  let context: Context | undefined;
  let stateDir: string | undefined;
  try {
    // 1-6. Sources, identity, keys.
    const gathered = await gatherBootSettings({
      ...gatherOptions,
      report: steps,
      startedAt: started,
      onRetry: (what, attempt, error, delayMs) =>
        out.info(`boot: ${what} not answering (attempt ${attempt}: ${isPachaError(error) ? error.message : 'internal error'}); next try in ${(delayMs / 1000).toFixed(1)} s`),
    });
    const { Context } = await import('../context.js');
    context = Context.fromSettings(gathered.settings, options.globals, out);
    stateDir = context.stateDir;
    // Later commands (status, push, rollback) talk to the master this boot found.
    if (!dryRun) await saveBootSettings(stateDir, gathered.settings, { instance: gathered.instance });
    report.host = gathered.identity.name;
    report.identity = gathered.identity.source;
    result.settings = gathered.settings.entries().map(({ key, value, origin }) => ({ key, value, origin }));
    for (const s of steps) out.debug(`boot: ${describeStep(s)}`);
    const host = gathered.identity.name;

    // 7. The master: waited for (a dry run asks once, with what it would use).
    const tracked = (await readRegistry(stateDir)).paths.map((p) => p.location);
    const probe = dryRun ? await dryRunMaster(gathered.settings) : { master: await context.master(), dispose: async () => undefined };
    // Several masters: the host across all of them, each path from the newest history (choose-master.ts).
    const others = dryRun ? [] : (await context.otherMasters()).map((o) => o.master);
    try {
      const master = probe.master;
      const timeoutMs = context.settings.require('pacha.boot.timeout') * 1000;
      const choice = await waitStep(step, master, others, host, { timeoutMs, dryRun, out });
      const listing = choice.listing;
      // From here on, a request the master's sshd drops is made again within the same budget
      // (drop-retry.ts), on the masters that answered: one the wait found dead is not waited
      // for again at every later step (its pushes fail at once and are caught up later).
      const dropRetry = (what: string) => (dryRun ? undefined : bootDropRetry(what, timeoutMs, out));
      if (!dryRun) for (const m of choice.reachable) m.retryDroppedConnections?.(bootDropRetry(m.label, timeoutMs, out));

      // 7b. One live writer per host name (fence.ts): refused (exit 3) or unknown host (exit 2) stop here.
      const { checkFence, recordClaim } = await import('./claims.js');
      const fence = await step('fence', master.label, async () => {
        const d = await checkFence({
          master: choice.first,
          host,
          listing,
          me: { instance: gathered.instance },
          fenceSeconds: context!.settings.require('pacha.boot.fence'),
          newHost: context!.settings.require('pacha.boot.new_host') as 'allow' | 'refuse',
          takeOver: options.takeOver ?? false,
          retry: dropRetry(`fence read of ${host}`),
        });
        return { value: d, status: 'ok', detail: `${d.verdict}: ${d.reason}` };
      });

      // 8. Decide.
      const decision = await step('decide', '', async () => {
        const d = decideBoot({
          host,
          master: master.label,
          tracked,
          onMaster: listing?.repositories,
          watch: context!.settings.get('pacha.watch') ?? [],
          forceRebuild: options.forceRebuild,
          watchAfter: options.watch,
        });
        return { value: d, status: 'ok', detail: `${d.action}: ${d.reason}` };
      });
      report.decision = { action: decision.action, reason: decision.reason, plan: decision.plan };
      if (dryRun) return result;
      out.info(`boot: ${host}: ${decision.action}: ${decision.reason}`);

      // Acting.
      result.exitCode = await act(context, decision, host, step, report, others.length > 0 ? choice : undefined);
      await step('claim', choice.first.label, async () => ({ value: undefined, status: 'ok', detail: (await recordClaim(await context!.store(), choice.first, fence, new Date(), (await context!.otherMasters()).find((o) => o.master === choice.first)?.id, dropRetry(`claim of ${host}`))).join('; ') || 'nothing pushed yet to hold' }));
    } finally {
      await probe.dispose();
    }

    // 9. Watch: continue as the daemon, once the report is on disk.
    if (options.watch) {
      const daemonContext = context;
      result.watch = () => watch(daemonContext, gatherOptions).finally(() => daemonContext.close().catch(() => undefined));
    } else {
      steps.push({ step: 'watch', source: '', status: 'skipped', durationMs: 0, detail: '--no-watch' });
    }
    return result;
  } catch (error) {
    report.error = isPachaError(error) ? { code: error.code, message: error.message, hint: error.hint } : { code: 'EINTERNAL', message: 'internal error' };
    report.exitCode = isPachaError(error) ? error.exitCode : ExitCode.failed;
    // A dry run reports an unreachable master instead of failing: what it read is the point.
    if (dryRun && report.host && isPachaError(error) && error.exitCode === ExitCode.unreachable) {
      result.exitCode = error.exitCode;
      return result;
    }
    throw error;
  } finally {
    // 10. The report, whatever happened (a dry run writes nothing).
    report.durationMs = Math.round(performance.now() - started);
    if (report.error === null) report.exitCode = result.exitCode;
    if (!dryRun) await keepBootReport(report, stateDir ?? (await fallbackStateDir(gatherOptions)), out);
    if (!result.watch) await context?.close().catch(() => undefined);
  }
}

function emptyBootReport(startedAt: Date, dryRun: boolean, steps: BootStep[]): BootReport {
  return { version: 1, startedAt: startedAt.toISOString(), durationMs: 0, host: null, identity: null, dryRun, steps, decision: null, rebuild: null, exitCode: ExitCode.ok, error: null };
}

/** Step 7: the master, waited for within pacha.boot.timeout (a dry run asks once). What it has of this host, if anything. */
async function waitStep(
  step: StepRun,
  master: Master,
  others: readonly Master[],
  host: string,
  options: { timeoutMs: number; dryRun: boolean; out: Output },
): Promise<MasterChoice> {
  const { out } = options;
  const { describeAcross } = await import('../rebuild/choose-master.js');
  const waited = await step('master', master.label, async () => {
    const w = await waitForMaster({
      probe: () => describeAcross(master, others, host),
      timeoutMs: options.timeoutMs,
      label: master.label,
      ...(options.dryRun ? { maxAttempts: 1 } : {}),
      onRetry: (attempt, error, delayMs) =>
        out.info(`boot: master ${master.label} not answering (attempt ${attempt}: ${isPachaError(error) ? error.message : 'no answer in time'}); next try in ${(delayMs / 1000).toFixed(1)} s`),
    });
    const l = w.value.listing;
    const detail = `answered after ${w.attempts} attempt${w.attempts === 1 ? '' : 's'}; ${l ? `has ${host}: ${l.repositories.join(', ') || 'no tracked paths'}` : `has no host '${host}'`}${w.value.lines.map((line) => `; ${line}`).join('')}`;
    return { value: w, status: 'ok', detail };
  });
  return waited.value;
}

/** The boot report on disk and its one line in the log; a report that cannot be written is a warning, not a failure. */
async function keepBootReport(report: BootReport, dir: string, out: Output): Promise<void> {
  const file = await writeBootReport(dir, report).catch((error: unknown) => {
    out.warn(`boot report not written to ${dir}: ${(error as Error).message}`);
    return undefined;
  });
  out.log(report.exitCode === 0 ? 'info' : 'error', summarizeBoot(report));
  if (file) out.debug(`boot report: ${file}`);
}

/** --state DIR as the flag layer, as every command gets it. */
function stateFlag(globals: GlobalOptions): GatherOptions['flags'] {
  const flags: Partial<Record<KeyName, { raw: string; flag: string }>> = {};
  if (globals.state) flags['pacha.state.path'] = { raw: path.resolve(globals.state), flag: '--state' };
  return flags;
}

/**
 * Where the report of a boot that failed before its settings were whole goes: the state dir
 * the file, environment and flags say, else the default. (User data or SSM may have named
 * another; they are what failed.)
 */
async function fallbackStateDir(options: GatherOptions): Promise<string> {
  try {
    return (await loadSettings({ ...(options.configPath ? { configPath: options.configPath } : {}), ...(options.env ? { env: options.env } : {}), flags: options.flags })).require('pacha.state.path');
  } catch {
    // The settings themselves are what failed: the flag or the variable as given, else the default.
    const given = options.flags?.['pacha.state.path']?.raw ?? options.env?.PACHA_STATE_PATH;
    return given && path.isAbsolute(given) ? given : (KEYS['pacha.state.path'].default as string);
  }
}

/**
 * The master as a dry run reaches it, from a private temporary directory (never the state
 * dir: an SSH master keeps its known_hosts and connection socket there), removed afterwards.
 * The key material the sources brought is written there too; writing it validates the
 * private key, so a dry run refuses what a real boot would refuse.
 */
async function dryRunMaster(settings: Settings): Promise<{ master: Master; dispose: () => Promise<void> }> {
  const { openMaster } = await import('../master/open.js');
  const temp = await mkdtemp(path.join(os.tmpdir(), 'pacha-boot-dry-run-'));
  try {
    let withKey = settings;
    const privateKey = settings.get('pacha.ssh.private_key');
    if (privateKey !== undefined) {
      const { writePrivateKey } = await import('../sources/key-material.js');
      const origin = settings.origin('pacha.ssh.private_key');
      const file = await writePrivateKey(temp, privateKey, origin);
      // As gather would: the file written from the material, unless env or a flag named one.
      if (!/^(env|flag):/.test(settings.origin('pacha.ssh.key'))) {
        withKey = settings.with([{ source: 'dry run', entries: [{ key: 'pacha.ssh.key', raw: file, origin }] }]);
      }
    }
    const master = await openMaster(withKey, temp);
    return {
      master,
      dispose: async () => {
        await master.close().catch(() => undefined);
        await rm(temp, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** Step 8's action, then the pacha.watch paths not yet tracked. Returns the exit code. */
async function act(context: Context, decision: Decision, host: string, step: StepRun, report: BootReport, choice?: MasterChoice): Promise<number> {
  const store = await context.store();
  const primary = await context.master();
  const master = choice?.first ?? primary;
  let worst: number = ExitCode.ok;

  if (decision.action === 'rebuild') {
    const rebuilt = await step('rebuild', master.label, async () => {
      const { rebuild } = await import('../rebuild/rebuild.js');
      (await import('../rebuild/v8-settings.js')).rebuildV8Settings(); // boot's process rebuilds (rebuild/v8-settings.ts)
      const outcome = await rebuild({
        master,
        store,
        host,
        stateDir: context.stateDir,
        root: context.root,
        tracked: context.settings.get('pacha.watch') ?? [],
        hooksTimeoutSeconds: context.settings.require('pacha.hooks.timeout'),
        dropRetryBudgetMs: context.settings.require('pacha.boot.timeout') * 1000,
        events: rebuildLog(context.out),
        ...(choice ? { choice } : {}),
      });
      if (outcome.dryRun) throw new Error('a rebuild without dryRun returned a dry run');
      if (choice) await forgetPrimaryAcknowledgement(store, choice, primary, outcome.registered.filter((r) => r.outcome === 'tracked').map((r) => r.name));
      const r = outcome.report;
      report.rebuild = summarizeRebuild(r);
      const { formatReport } = await import('../rebuild/report.js');
      context.out.info(formatReport(r));
      const { writeRebuildReport } = await import('../rebuild/report-file.js');
      context.out.debug(`rebuild report written to ${await writeRebuildReport(context.stateDir, outcome)}`);
      const t = r.totals;
      const detail = `${t.repositories} path(s), ${t.written} written, ${r.hooks.length} hook(s)${t.hooksFailed ? `, ${t.hooksFailed} failed` : ''}${t.ownersNotFound ? `, ${t.ownersNotFound} owner(s) not found` : ''}${t.notRestored ? `, ${t.notRestored} not restored` : ''}`;
      return { value: r, status: r.exitCode === 0 ? 'ok' : 'error', detail };
    });
    worst = Math.max(worst, rebuilt.exitCode);
  } else if (decision.action === 'new-host') {
    await step('new-host', primary.label, async () => ({ value: undefined, status: 'ok', detail: `${host}: ${await primary.addHost(host)}` }));
  } else {
    const tracked = await store.list();
    const pushed = await step('push', master.label, async () => {
      const outcome = await commitAndPush(context, store, primary, tracked);
      return { value: outcome, status: outcome.exitCode === 0 ? 'ok' : 'error', detail: outcome.lines.join('; ') || 'nothing changed' };
    });
    worst = Math.max(worst, pushed.exitCode);
  }

  if (decision.track.length > 0) {
    const tracked = await step('track', decision.track.join(', '), async () => {
      const items: TrackedPath[] = [];
      const problems: string[] = [];
      for (const location of decision.track) {
        try {
          const { tracked: item, created } = await store.track(location);
          if (created) context.out.info(`boot: now tracking ${item.location} as ${item.name} (pacha.watch)`);
          items.push(item);
        } catch (error) {
          if (!isPachaError(error)) throw error;
          context.out.error(`boot: cannot track ${location} from pacha.watch: ${error.message}`);
          problems.push(`${location}: ${error.message}`);
        }
      }
      const outcome = await commitAndPush(context, store, primary, items);
      const exitCode = problems.length > 0 ? Math.max(ExitCode.partial, outcome.exitCode) : outcome.exitCode;
      return { value: { exitCode }, status: exitCode === 0 ? 'ok' : 'error', detail: [...outcome.lines, ...problems].join('; ') };
    });
    worst = Math.max(worst, tracked.exitCode);
  }
  return worst;
}

/** Commit each path and push it (store/commit-and-push.ts); the boot report keeps one line per path. */
async function commitAndPush(context: Context, store: Store, master: Master, items: TrackedPath[]): Promise<{ exitCode: number; lines: string[] }> {
  const { commitAndPushAll, sayCommitAndPush } = await import('../store/commit-and-push.js');
  const { exitCode, paths } = await commitAndPushAll(store, master, items, { origin: 'boot' }, sayCommitAndPush(context.out), await context.otherMasters(), {
    primaryMayBeDown: true,
  });
  const lines = paths.map((p) =>
    p.error ? `${p.location}: ${String(p.error.message)}` : `${p.location}: ${p.commit ? `committed ${p.changed?.length ?? 0} change(s), ` : ''}${p.push?.status}`,
  );
  return { exitCode, lines };
}

/** A boot runs unattended (a service): the rebuild's progress goes to the log. */
function rebuildLog(out: Output): RebuildEvents {
  return {
    hookOutput: (phase, name, stream, line) => out.info(hookOutputLine(phase, name, stream, line)),
    hookDone: (phase, r) => out.info(hookDoneLine(phase, r)),
    cloneRetry: (name, attempt, reason, delayMs) => out.info(`clone of ${name}: the master dropped the connection (${reason}); retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s`),
    registered: (name, location, outcome) => {
      if (outcome === 'kept-local') out.warn(`${location} has local commits the master lacks: its local history is kept`);
      else out.debug(`${name}: ${outcome} (${location})`);
    },
  };
}

export function summarizeRebuild(r: RebuildReport): RebuildSummary {
  const { master, root, totals, hooks, durations, exitCode, backupDir } = r;
  return { master, root, totals, hooks, durations, exitCode, ...(backupDir ? { backupDir } : {}) };
}

/** Step 9: the daemon, in this process, until SIGTERM. SIGHUP gathers the sources again. */
async function watch(context: Context, gatherOptions: GatherOptions): Promise<void> {
  const { runDaemon } = await import('../daemon/daemon.js');
  await runDaemon(await context.daemonOptions(async () => (await gatherBootSettings({ ...gatherOptions, report: [] })).settings));
}
