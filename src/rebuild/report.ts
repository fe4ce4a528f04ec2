// What a rebuild did, for the person who ran it at 3 a.m. (short, the bad news first
// visible) and for machines (--json, and the copy kept under the state dir).
import { ExitCode } from '../errors.js';
import type { HookPhase, OutputStream } from '../hooks/index.js';
import type { OwnerNotFound } from './owners.js';
import type { PlacedCounts, PlaceResult } from './place.js';
import type { Plan } from './plan.js';

export interface RepositoryReport extends PlacedCounts {
  name: string;
  location: string;
  ownersNotFound: OwnerNotFound[];
  extras: string[];
  /** `.pacha-tmp-*` files an interrupted run left in the target, removed. */
  cleaned: string[];
  skipped: string[];
  /** Entries this system could not make (device nodes without CAP_MKNOD): exit 4. */
  failed: Array<{ path: string; reason: string }>;
  durationMs: number;
}

export interface HookReport {
  name: string;
  phase: HookPhase;
  /** null when it was killed (timeout or signal). */
  exitCode: number | null;
  timedOut?: boolean;
  durationMs: number;
}

/** A repository on the master that was listed and not placed (its location is outside what this host tracks). */
export interface NotRestored {
  name: string;
  location: string;
  reason: string;
}

export interface RebuildTotals extends PlacedCounts {
  repositories: number;
  notRestored: number;
  ownersNotFound: number;
  extras: number;
  hooksFailed: number;
  /** Entries that could not be made. */
  failed: number;
}

export interface RebuildReport {
  host: string;
  /** The master, as Master.label. */
  master: string;
  root: string;
  startedAt: string;
  /** Where displaced entries were kept, when any were. */
  backupDir?: string;
  repositories: RepositoryReport[];
  notRestored: NotRestored[];
  hooks: HookReport[];
  totals: RebuildTotals;
  /** Stages of interrupted runs removed from the state dir before this one. */
  staleStages: string[];
  /** Per step (stage, pre, place, post …) and total, milliseconds. */
  durations: Record<string, number> & { totalMs: number };
  exitCode: ExitCode;
}

/** A placed repository as the report shows it. */
export function repositoryReport(result: PlaceResult): RepositoryReport {
  return {
    name: result.repository,
    location: result.location,
    files: result.files,
    bytes: result.bytes,
    written: result.written,
    unchanged: result.unchanged,
    metadataUpdated: result.metadataUpdated,
    backedUp: result.backedUp,
    ownersNotFound: result.ownersNotFound,
    extras: result.extras,
    cleaned: result.cleaned,
    skipped: result.skipped,
    failed: result.failed,
    durationMs: result.durationMs,
  };
}

/** The report of a rebuild that ran to the end, from what placement and the hooks returned. */
export function buildRebuildReport(input: {
  host: string;
  master: string;
  root: string;
  startedAt: string;
  backupDir?: string;
  placed: readonly PlaceResult[];
  notRestored?: readonly NotRestored[];
  hooks: readonly HookReport[];
  durations: Record<string, number> & { totalMs: number };
  staleStages?: string[];
}): RebuildReport {
  const repositories = input.placed.map(repositoryReport);
  const notRestored = [...(input.notRestored ?? [])];
  const hooks = input.hooks.map(({ name, phase, exitCode, timedOut, durationMs }) => ({ name, phase, exitCode, timedOut: Boolean(timedOut), durationMs }));
  const totals = computeTotals(repositories, hooks, notRestored.length);
  const report: RebuildReport = {
    host: input.host,
    master: input.master,
    root: input.root,
    startedAt: input.startedAt,
    repositories,
    notRestored,
    hooks,
    totals,
    staleStages: input.staleStages ?? [],
    durations: input.durations,
    exitCode: rebuildExitCode(totals),
  };
  if (input.backupDir !== undefined && totals.backedUp > 0) report.backupDir = input.backupDir;
  return report;
}

const hookFailed = (hook: HookReport): boolean => hook.exitCode !== 0;

export function computeTotals(repositories: readonly RepositoryReport[], hooks: readonly HookReport[], notRestored = 0): RebuildTotals {
  const sum = (pick: (r: RepositoryReport) => number): number => repositories.reduce((n, r) => n + pick(r), 0);
  return {
    repositories: repositories.length,
    notRestored,
    files: sum((r) => r.files),
    bytes: sum((r) => r.bytes),
    written: sum((r) => r.written),
    unchanged: sum((r) => r.unchanged),
    metadataUpdated: sum((r) => r.metadataUpdated),
    backedUp: sum((r) => r.backedUp),
    ownersNotFound: sum((r) => r.ownersNotFound.length),
    extras: sum((r) => r.extras.length),
    hooksFailed: hooks.filter(hookFailed).length,
    failed: sum((r) => r.failed.length),
  };
}

/**
 * Exit code of a rebuild that ran to the end: 4 (completed with failures) when a hook
 * failed, an owner could not be restored by name, an entry could not be made, or a
 * repository was not restored (error-codes.ts, EXIT_MEANINGS), else 0.
 */
export function rebuildExitCode(totals: RebuildTotals): ExitCode {
  return totals.hooksFailed > 0 || totals.ownersNotFound > 0 || totals.failed > 0 || totals.notRestored > 0 ? ExitCode.partial : ExitCode.ok;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** What happened to a repository's entries, zeros left out: "3 written, 997 unchanged, 1 backed up". */
function countsLine(r: Pick<RepositoryReport, 'written' | 'unchanged' | 'metadataUpdated' | 'backedUp' | 'skipped'>): string {
  const parts = [
    r.written && `${r.written} written`,
    r.metadataUpdated && `${r.metadataUpdated} mode/owner fixed`,
    r.unchanged && `${r.unchanged} unchanged`,
    r.backedUp && `${r.backedUp} backed up`,
    r.skipped.length && `${r.skipped.length} skipped`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'nothing to do';
}

/** The progress line printed when a repository is placed. */
export function formatRepositoryLine(r: RepositoryReport): string {
  return `${r.name} → ${r.location}: ${plural(r.files, 'entry', 'entries')}, ${formatBytes(r.bytes)} written; ${countsLine(r)} (${formatDuration(r.durationMs)})`;
}

function ownerLine(o: OwnerNotFound, where: string): string {
  const shown = o.paths.slice(0, 3).join(', ') + (o.paths.length > 3 ? `, … (${o.paths.length} in all)` : '');
  return `  ${o.kind} "${o.name}" unknown here: ${o.kind === 'user' ? 'uid' : 'gid'} ${o.id} used, in ${where}: ${shown}`;
}

function listSome(items: readonly string[], max = 5): string {
  return items.slice(0, max).join(', ') + (items.length > max ? `, … (${items.length} in all)` : '');
}

/** The summary for people: the verdict first, then only what needs attention. */
export function formatReport(report: RebuildReport): string {
  const t = report.totals;
  const lines: string[] = [];
  const verdict = report.exitCode === ExitCode.ok ? 'Rebuilt' : 'Rebuilt WITH FAILURES';
  lines.push(
    `${verdict} ${report.host} from ${report.master}${report.root === '/' ? '' : ` under ${report.root}`}: ` +
      `${plural(t.repositories, 'repository', 'repositories')}, ${t.files} entries, ${formatBytes(t.bytes)} written in ${formatDuration(report.durations.totalMs)}`,
  );
  lines.push(`  ${countsLine({ ...t, skipped: report.repositories.flatMap((r) => r.skipped) })}`);
  for (const r of report.repositories) lines.push(`  ${formatRepositoryLine(r)}`);
  if (report.hooks.length) {
    lines.push('Hooks:');
    for (const h of report.hooks) {
      const status = h.exitCode === 0 ? 'ok' : h.timedOut ? 'FAILED (timed out)' : h.exitCode === null ? 'FAILED (killed)' : `FAILED (exit ${h.exitCode})`;
      lines.push(`  ${h.phase} ${h.name}: ${status} (${formatDuration(h.durationMs)})`);
    }
  }
  const notFound = report.repositories.flatMap((r) => r.ownersNotFound.map((o) => ownerLine(o, r.name)));
  if (notFound.length) lines.push('Owners not found by name (the recorded number was used):', ...notFound);
  const skipped = report.repositories.filter((r) => r.skipped.length);
  for (const r of skipped) lines.push(`Skipped (not restorable: sockets) in ${r.name}: ${listSome(r.skipped)}`);
  for (const r of report.repositories.filter((x) => x.failed.length)) {
    lines.push(`Could not be made in ${r.name}:`, ...r.failed.map((f) => `  ${f.path}: ${f.reason}`));
  }
  const extras = report.repositories.filter((r) => r.extras.length);
  for (const r of extras) lines.push(`Left alone in ${r.location} (not in the repository): ${listSome(r.extras)}`);
  if (report.backupDir && t.backedUp) lines.push(`Displaced entries kept in ${report.backupDir}`);
  if (report.notRestored.length) lines.push('NOT restored:', ...report.notRestored.map(notRestoredLine));
  const cleaned = report.repositories.filter((r) => r.cleaned.length);
  for (const r of cleaned) lines.push(`Cleaned up after an interrupted run in ${r.location}: ${listSome(r.cleaned)}`);
  if (report.staleStages.length) lines.push(`Cleaned up after an interrupted run: ${plural(report.staleStages.length, 'stage')} removed (${listSome(report.staleStages)})`);
  if (report.exitCode !== ExitCode.ok) {
    const why = [
      t.hooksFailed && `${plural(t.hooksFailed, 'hook')} failed`,
      t.ownersNotFound && `${plural(t.ownersNotFound, 'owner')} not found by name`,
      t.failed && `${plural(t.failed, 'entry', 'entries')} could not be made`,
      t.notRestored && `${plural(t.notRestored, 'repository', 'repositories')} not restored`,
    ].filter(Boolean);
    lines.push(`Exit ${report.exitCode}: ${why.join(', ') || 'completed with failures'}.`);
  }
  return lines.join('\n');
}

/** A line a hook wrote, as the log shows it: `[pacha_pre/10-db !] text` (the `!` marks stderr). */
export function hookOutputLine(phase: HookPhase, name: string, stream: OutputStream, line: string): string {
  return `[pacha_${phase}/${name}${stream === 'stderr' ? ' !' : ''}] ${line}`;
}

/** How a hook ended: `hook pacha_post/20-app: exit 3`, with its duration when asked. */
export function hookDoneLine(
  phase: HookPhase,
  r: { name: string; exitCode: number | null; signal?: string | null; timedOut?: boolean; durationMs: number },
  options: { duration?: boolean } = {},
): string {
  const status = r.timedOut ? 'timed out' : r.exitCode === 0 ? 'ok' : `exit ${r.exitCode ?? r.signal}`;
  return `hook pacha_${phase}/${r.name}: ${status}${options.duration ? ` (${Math.round(r.durationMs)} ms)` : ''}`;
}

export function notRestoredLine(n: NotRestored): string {
  return `  ${n.name} → ${n.location}: ${n.reason}`;
}

export function reportToJSON(report: RebuildReport): string {
  return JSON.stringify(report, null, 2);
}

/** `--dry-run`: what placing would do, per repository; nothing was touched. */
export function formatPlan(plans: readonly Plan[]): string {
  const lines: string[] = [];
  for (const plan of plans) {
    const c = plan.counts;
    lines.push(
      `${plan.repository} → ${plan.location}: ${c.create} to create, ${c.replace} to replace, ${c['update-metadata']} mode/owner to fix, ${c.unchanged} unchanged` +
        (c.skip ? `, ${c.skip} skipped` : ''),
    );
    for (const refusal of plan.refused) lines.push(`  REFUSED ${refusal.path}: ${refusal.reason}`);
    for (const entry of plan.entries) {
      if (entry.action === 'unchanged') continue;
      lines.push(`  ${entry.action.padEnd(15)} ${entry.path}${entry.reason ? ` (${entry.reason})` : ''}`);
    }
    for (const o of plan.ownersNotFound) lines.push(ownerLine(o, plan.repository));
    if (plan.extras.length) lines.push(`  left alone (not in the repository): ${listSome(plan.extras)}`);
  }
  lines.push('Dry run: nothing was touched.');
  return lines.join('\n');
}

/** `--dry-run --json`: the plans without staging paths or inode numbers. */
export function planToJSON(plans: readonly Plan[]): unknown {
  return plans.map((plan) => ({
    repository: plan.repository,
    location: plan.location,
    targetRoot: plan.targetRoot,
    counts: plan.counts,
    bytes: plan.bytes,
    refused: plan.refused,
    entries: plan.entries.map((e) => ({ path: e.path, type: e.type, action: e.action, reason: e.reason, mode: e.mode, uid: e.uid, gid: e.gid })),
    ownersNotFound: plan.ownersNotFound,
    extras: plan.extras,
  }));
}
