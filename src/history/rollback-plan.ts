// Narrowing a REV's metadata and the resulting plan to what a rollback is about. Pure.
// - A file or directory inside a tracked directory: its entries, plus the directories
//   above it, which are only created when missing (their mode and owner are otherwise
//   not the rollback's business).
// - Whatever is in the scope now but was not at REV (the plan's extras) is moved aside:
//   a rollback makes the scope equal to REV, and nothing is ever deleted outright.
import path from 'node:path';
import { isPachaTemp } from '../fs/temp-name.js';
import type { Metadata } from '../store/metadata.js';
import { PLAN_ACTIONS, type Plan, type PlanAction } from '../rebuild/plan.js';
import { inScope, type Scope } from './scope.js';

type ScopeLike = Pick<Scope, 'entry' | 'whole'>;

/** Directories strictly above an entry path, nearest last ('.' first). */
export function ancestorsOf(entryPath: string): string[] {
  if (entryPath === '.') return [];
  const out: string[] = [];
  for (let parent = path.posix.dirname(entryPath); ; parent = path.posix.dirname(parent)) {
    out.unshift(parent);
    if (parent === '.') break;
  }
  return out;
}

/** REV's metadata with only the scope's entries and the directories above the scope. */
export function scopeMetadata(metadata: Metadata, scope: ScopeLike): Metadata {
  if (scope.whole) return metadata;
  const above = new Set(ancestorsOf(scope.entry));
  return { ...metadata, entries: metadata.entries.filter((e) => inScope(scope, e.path) || (above.has(e.path) && e.type === 'directory')) };
}

/**
 * The plan without the directories above the scope that are already directories (left as
 * they are), and with only the scope's extras.
 */
export function limitPlan(plan: Plan, scope: ScopeLike): Plan {
  const entries = plan.entries.filter((e) => inScope(scope, e.path) || e.action === 'create' || e.action === 'replace');
  const counts = Object.fromEntries(PLAN_ACTIONS.map((a) => [a, 0])) as Record<PlanAction, number>;
  for (const e of entries) counts[e.action]++;
  const extras = plan.extras.filter((p) => inScope(scope, p) && !isPachaTemp(path.posix.basename(p)));
  const kept = new Set(entries.map((e) => e.path));
  const ownersNotFound = plan.ownersNotFound
    .map((o) => ({ ...o, paths: o.paths.filter((p) => kept.has(p)) }))
    .filter((o) => o.paths.length > 0);
  return { ...plan, entries, counts, extras, ownersNotFound, bytes: entries.reduce((sum, e) => sum + e.size, 0) };
}

/** Whether placing the plan and moving its extras aside would change nothing. */
export function isNoop(plan: Plan): boolean {
  return plan.extras.length === 0 && plan.entries.every((e) => e.action === 'unchanged' || e.action === 'skip');
}
