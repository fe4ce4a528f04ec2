// `pacha log PATH`, `pacha diff PATH`, `pacha show PATH --at REV`, `pacha rollback PATH --to REV`.
import { ExitCode, isPachaError, UsageError } from '../../errors.js';
import { diffPath } from '../../history/diff.js';
import { historyOf } from '../../history/log.js';
import { formatDifference, formatMode, formatOwner } from '../../history/metadata-diff.js';
import type { Revision } from '../../history/revision.js';
import { rollback, type RollbackResult } from '../../history/rollback.js';
import { resolveScope, type Scope } from '../../history/scope.js';
import { showAt } from '../../history/show.js';
import { planToJSON } from '../../rebuild/report.js';
import { formatChange } from '../../store/changes.js';
import { currentUser, describeProvenance } from '../../store/provenance.js';
import type { MetadataEntry } from '../../store/metadata.js';
import type { Context } from '../../context.js';
import { pushTracked } from './push.js';

const short = (sha: string): string => sha.slice(0, 12);

function revisionLine(r: Revision): string {
  return `${short(r.sha)} (${r.time}${r.asOf ? `, the last commit at or before ${r.asOf}` : ''}) ${r.subject}`;
}

function where(scope: Scope): Record<string, unknown> {
  return { path: scope.shown, location: scope.tracked.location, name: scope.tracked.name, entryPath: scope.entry };
}

export async function logCommand(context: Context, argument: string, options: { limit?: string }): Promise<number> {
  let limit: number | undefined;
  if (options.limit !== undefined) {
    limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit ${options.limit}: not a positive whole number`, { hint: 'for example --limit 20' });
  }
  const scope = await resolveScope(await context.store(), argument);
  const commits = await historyOf(scope, limit === undefined ? {} : { limit });
  if (commits.length === 0) context.out.say(`no commit touched ${scope.shown}`);
  for (const commit of commits) {
    context.out.say(`${short(commit.sha)} ${commit.time} ${commit.subject}`);
    for (const change of commit.changes) context.out.say(`    ${formatChange(change)}`);
    // Last, as in the commit message: its trailers.
    const by = describeProvenance(commit.by);
    if (by) context.out.say(`    by ${by}`);
  }
  context.out.result({ ok: true, ...where(scope), commits });
  return ExitCode.ok;
}

export async function diffCommand(context: Context, argument: string, options: { from?: string; to?: string }): Promise<number> {
  const store = await context.store();
  const scope = await resolveScope(store, argument);
  const diff = await diffPath(store, scope, options);
  const to = diff.to ? short(diff.to.sha) : 'disk';
  if (diff.content) context.out.say(diff.content.replace(/\n$/, ''));
  if (diff.metadata.length) {
    context.out.say(`metadata ${short(diff.from.sha)}..${to}:`);
    for (const d of diff.metadata) context.out.say(`  ${formatDifference(d)}`);
  }
  if (!diff.content && diff.metadata.length === 0) context.out.say(`no differences in ${scope.shown} between ${short(diff.from.sha)} and ${to}`);
  context.out.result({ ok: true, ...where(scope), from: diff.from, to: diff.to ?? 'disk', content: diff.content, metadata: diff.metadata });
  return ExitCode.ok;
}

function entryLine(e: MetadataEntry): string {
  const what = e.type === 'symlink' ? `-> ${e.target ?? ''}` : formatMode(e.mode);
  return `${e.type.padEnd(9)} ${what.padEnd(6)} ${formatOwner(e.user)}:${formatOwner(e.group)}  ${e.path}`;
}

function utf8(content: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return null;
  }
}

export async function showCommand(context: Context, argument: string, options: { at: string }): Promise<number> {
  const store = await context.store();
  const scope = await resolveScope(store, argument);
  const shown = await showAt(scope, options.at);
  if (context.out.json) {
    context.out.result({
      ok: true,
      ...where(scope),
      revision: shown.revision,
      entry: shown.entry,
      ...(shown.content ? { content: utf8(shown.content), contentBase64: shown.content.toString('base64') } : {}),
      ...(shown.entries ? { entries: shown.entries } : {}),
    });
  } else if (shown.entries) {
    context.out.say(entryLine(shown.entry));
    for (const e of shown.entries) context.out.say(entryLine(e));
  } else if (shown.entry.type === 'file' && shown.content) {
    process.stdout.write(shown.content); // the bytes exactly as they were
  } else if (shown.entry.type === 'symlink') {
    context.out.say(shown.entry.target ?? '');
  } else {
    context.out.say(entryLine(shown.entry));
  }
  return ExitCode.ok;
}

function printRollbackPlan(context: Context, result: RollbackResult): void {
  const { out } = context;
  for (const entry of result.plan.entries) {
    if (entry.action === 'unchanged') continue;
    out.say(`  ${entry.action.padEnd(15)} ${entry.path}${entry.reason ? ` (${entry.reason})` : ''}`);
  }
  for (const extra of result.plan.extras) out.say(`  ${'move aside'.padEnd(15)} ${extra} (did not exist then)`);
}

export async function rollbackCommand(context: Context, argument: string, options: { to: string; dryRun?: boolean }): Promise<number> {
  const store = await context.store();
  const scope = await resolveScope(store, argument);
  const result = await rollback({ store, scope, to: options.to, dryRun: Boolean(options.dryRun), user: currentUser() });
  const { out } = context;
  let exitCode: number = ExitCode.ok;
  const problems: string[] = [];

  if (result.before) out.say(`committed ${scope.tracked.location} as it was first: ${short(result.before.sha)} ${result.before.changed.join(', ')}`);
  out.say(`${options.dryRun ? 'would roll' : 'rolling'} ${scope.shown} back to ${revisionLine(result.revision)}`);
  printRollbackPlan(context, result);
  for (const o of result.plan.ownersNotFound) {
    const line = `${o.kind} '${o.name}' does not exist here; ${o.paths.join(', ')} ${options.dryRun ? 'would get' : 'got'} the recorded id ${o.id}`;
    if (options.dryRun) out.warn(line);
    else problems.push(line);
  }
  let push: unknown;
  if (result.noop) out.say(`${scope.shown} is already as it was at ${short(result.revision.sha)}; nothing to do`);
  else if (options.dryRun) out.say('dry run: nothing was touched');
  else {
    const placed = result.placed!;
    out.say(
      `rolled back ${scope.shown}: ${placed.written} written, ${placed.metadataUpdated} mode/owner fixed, ${result.movedAside.length} moved aside` +
        (placed.backedUp + result.movedAside.length > 0 ? `; what was there is kept under ${context.stateDir}/backups` : ''),
    );
    if (result.commit) out.say(`committed the rollback: ${short(result.commit.sha)}`);
    else out.say('the rollback was already committed by another pacha process (the daemon)');
  }
  if (!options.dryRun && (await store.unpushed(scope.tracked)) > 0) {
    try {
      const master = await context.master();
      const pushed = await pushTracked(context, store, master, scope.tracked);
      push = pushed.result;
      exitCode = Math.max(exitCode, pushed.exitCode);
    } catch (error) {
      if (!isPachaError(error)) throw error;
      // The rollback is done and committed; only the master lacks it for now.
      problems.push(`not pushed: ${error.message}. The commit waits in the local store and goes with the next push (the daemon, or \`pacha push\`).`);
      push = { status: 'failed', error: error.toJSON() };
    }
  }
  for (const problem of problems) out.warn(problem);
  if (problems.length > 0) exitCode = Math.max(exitCode, ExitCode.partial);
  out.result({
    ok: exitCode === ExitCode.ok,
    ...where(scope),
    dryRun: result.dryRun,
    revision: result.revision,
    noop: result.noop,
    plan: (planToJSON([result.plan]) as unknown[])[0] ?? null,
    aside: result.plan.extras,
    before: result.before ? { sha: result.before.sha, changed: result.before.changed } : null,
    placed: result.placed ? { written: result.placed.written, metadataUpdated: result.placed.metadataUpdated, backups: result.placed.backups } : null,
    movedAside: result.movedAside,
    commit: result.commit ? { sha: result.commit.sha, changed: result.commit.changed } : null,
    push: push ?? null,
    problems,
    exitCode,
  });
  return exitCode;
}
