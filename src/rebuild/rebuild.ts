// The rebuild of DESIGN.md, steps 1 to 8: list the host on the master, stage every
// repository, plan, run pre hooks, place, register for tracking, run post hooks, report.
// Nothing on the host is touched before every repository is staged, planned and judged
// safe, and the pre hooks have passed.
import path from 'node:path';
import { ExitCode, MasterError, OperationError, UsageError } from '../errors.js';
import { orderHooks, runHooks, type HookResult, type OutputStream } from '../hooks/index.js';
import type { Master } from '../master/master.js';
import { sanitizeName } from '../store/registry.js';
import type { Store } from '../store/store.js';
import { inspectStage, inspectTarget } from './inspect.js';
import { loadTargetAccounts, recordedNames, resolveOwners } from './owners.js';
import { backupDirFor, placeRepository, type PlaceProgress, type PlaceResult } from './place.js';
import { planRepository, targetRootOf, type Plan } from './plan.js';
import { createStage, stageRepository, type StagedRepository } from './stage.js';

export interface RebuildOptions {
  master: Master;
  /** Where the rebuilt paths are registered for tracking (only when root is '/'). */
  store: Store;
  host: string;
  stateDir: string;
  root: string;
  /** Only this repository (its name on the master, or its location). */
  directory?: string;
  dryRun?: boolean;
  hooksTimeoutSeconds: number;
  events?: RebuildEvents;
}

export interface RebuildEvents {
  staged?(repository: StagedRepository, files: number, bytes: number): void;
  planned?(plan: Plan): void;
  hooksSkipped?(phase: 'pre' | 'post', skipped: Array<{ name: string; reason: string }>): void;
  hookOutput?(phase: 'pre' | 'post', name: string, stream: OutputStream, line: string): void;
  hookDone?(phase: 'pre' | 'post', result: HookResult): void;
  placing?(progress: PlaceProgress): void;
  placed?(result: PlaceResult): void;
  registered?(name: string, location: string, outcome: 'tracked' | 'kept-local' | 'not-registered'): void;
}

export interface HookReport {
  phase: 'pre' | 'post';
  name: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
}

export interface RebuildReport {
  host: string;
  master: string;
  root: string;
  dryRun: boolean;
  startedAt: string;
  durationMs: number;
  plans: Plan[];
  placed: PlaceResult[];
  hooks: HookReport[];
  skippedHooks: Array<{ phase: 'pre' | 'post'; name: string; reason: string }>;
  registered: Array<{ name: string; location: string; outcome: string }>;
  /** 0 ok, 4 completed with failures (a post hook failed, an owner could not be restored). */
  exitCode: number;
  problems: string[];
}

function hookReport(phase: 'pre' | 'post', r: HookResult): HookReport {
  return { phase, name: r.name, exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, durationMs: Math.round(r.durationMs) };
}

/** Which repositories to rebuild: all, or the one --directory names. Pure. */
export function selectRepositories(available: string[], directory: string | undefined, host: string): string[] {
  if (directory === undefined) return available;
  const wanted = [directory, sanitizeName(path.basename(directory))];
  const match = available.find((name) => wanted.includes(name));
  if (!match) {
    throw new UsageError(`${host} has no tracked path named '${directory}' on the master`, {
      hint: `its tracked paths are: ${available.join(', ') || '(none)'}`,
    });
  }
  return [match];
}

export async function rebuild(options: RebuildOptions): Promise<RebuildReport> {
  const { master, host, events = {} } = options;
  const started = Date.now();
  const report: RebuildReport = {
    host,
    master: master.label,
    root: options.root,
    dryRun: Boolean(options.dryRun),
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    plans: [],
    placed: [],
    hooks: [],
    skippedHooks: [],
    registered: [],
    exitCode: ExitCode.ok,
    problems: [],
  };

  // 1. The host on the master.
  const listing = await master.describeHost(host);
  if (!listing) {
    const hosts = await master.listHosts();
    throw new MasterError(`${master.label} has no host '${host}'`, {
      code: 'ENOHOST',
      hint: hosts.length ? `the master has: ${hosts.join(', ')}` : `the master has no hosts yet under ${master.hostsPath}`,
    });
  }
  const names = selectRepositories(listing.repositories, options.directory, host);

  // 2-3. Stage and clone.
  const stage = await createStage(options.stateDir);
  try {
    const staged: StagedRepository[] = [];
    for (const name of names) {
      const repository = await stageRepository(master, host, name, stage.dir);
      staged.push(repository);
    }

    // 4. Plan everything before touching anything.
    const accounts = await loadTargetAccounts(options.root, mergeNames(staged));
    for (const repository of staged) {
      const stagedFiles = await inspectStage(repository.tree, repository.metadata, repository.name);
      const target = await inspectTarget(targetRootOf(repository.metadata, options.root), repository.metadata, stagedFiles);
      const plan = planRepository({
        repository: repository.name,
        metadata: repository.metadata,
        root: options.root,
        staged: stagedFiles,
        target,
        owners: resolveOwners(repository.metadata.entries, accounts),
      });
      const bytes = [...stagedFiles.values()].reduce((sum, f) => sum + f.size, 0);
      events.staged?.(repository, repository.metadata.entries.length, bytes);
      events.planned?.(plan);
      report.plans.push(plan);
    }
    const refused = report.plans.filter((p) => p.refused.length > 0);
    if (refused.length > 0) {
      const lines = refused.flatMap((p) => p.refused.map((r) => `${p.repository}: ${r.path}: ${r.reason}`));
      throw new OperationError('EUNSAFE', `refusing to rebuild; nothing was touched:\n  ${lines.join('\n  ')}`, {
        hint: 'fix the target (or the repository on the master) and run the rebuild again',
        details: { refused: lines },
      });
    }
    if (options.dryRun) return finish(report, started);

    // 5. Pre hooks: a failure stops the rebuild before any file is touched.
    const hookEnv = { PACHA_HOST: host, PACHA_STAGE: stage.dir, PACHA_ROOT: options.root };
    const runPhase = async (phase: 'pre' | 'post') => {
      const dir = path.join(stage.dir, 'hooks', phase);
      const files = await master.fetchHooks(host, phase, dir);
      const order = orderHooks(files);
      if (order.skipped.length) {
        events.hooksSkipped?.(phase, order.skipped);
        report.skippedHooks.push(...order.skipped.map((s) => ({ phase, ...s })));
      }
      const run = await runHooks({
        phase,
        dir,
        names: order.run,
        cwd: stage.dir,
        env: hookEnv,
        timeoutSeconds: options.hooksTimeoutSeconds,
        onOutput: (name, stream, line) => events.hookOutput?.(phase, name, stream, line),
      });
      for (const result of run.results) {
        events.hookDone?.(phase, result);
        report.hooks.push(hookReport(phase, result));
      }
      return run;
    };
    const pre = await runPhase('pre');
    if (pre.failures.length > 0) throw pre.failures[0]!;

    // 6. Place.
    const backupDir = backupDirFor(options.stateDir, new Date(started));
    for (const plan of report.plans) {
      const result = await placeRepository(plan, {
        root: options.root,
        backupDir,
        ...(events.placing ? { onProgress: events.placing } : {}),
      });
      report.placed.push(result);
      events.placed?.(result);
    }

    // 7. Register for tracking on the same history, then post hooks.
    for (const repository of staged) await register(options, repository, report, events);
    const post = await runPhase('post');
    for (const failure of post.failures) report.problems.push(failure.message);

    // 8. Exit status.
    const ownerProblems = report.placed.flatMap((p) => p.ownersNotFound);
    for (const o of ownerProblems) {
      report.problems.push(`${o.kind} '${o.name}' does not exist here; ${o.paths.length} entr${o.paths.length === 1 ? 'y' : 'ies'} got the recorded id ${o.id}`);
    }
    if (post.failures.length > 0 || ownerProblems.length > 0) report.exitCode = ExitCode.partial;
    return finish(report, started);
  } finally {
    await stage.remove();
  }
}

function mergeNames(staged: StagedRepository[]): { users: Set<string>; groups: Set<string> } {
  const users = new Set<string>();
  const groups = new Set<string>();
  for (const repository of staged) {
    const names = recordedNames(repository.metadata.entries);
    names.users.forEach((n) => users.add(n));
    names.groups.forEach((n) => groups.add(n));
  }
  return { users, groups };
}

/**
 * The rebuilt path is tracked on the master's history. A path this host already tracks with
 * commits the master lacks keeps its local history (nothing lost). Under --root the files
 * belong to another system (a mounted image): that system's own pacha tracks them.
 */
async function register(options: RebuildOptions, repository: StagedRepository, report: RebuildReport, events: RebuildEvents): Promise<void> {
  const { location, single } = repository.metadata;
  let outcome: 'tracked' | 'kept-local' | 'not-registered' = 'tracked';
  if (path.resolve(options.root) !== '/') {
    outcome = 'not-registered';
  } else {
    const existing = await options.store.find(location);
    if (existing && existing.location === location && (await options.store.unpushed(existing)) > 0) {
      outcome = 'kept-local';
    } else {
      await options.store.adopt({ location, name: repository.name, single }, repository.gitDir);
    }
  }
  report.registered.push({ name: repository.name, location, outcome });
  events.registered?.(repository.name, location, outcome);
}

function finish(report: RebuildReport, started: number): RebuildReport {
  report.durationMs = Date.now() - started;
  return report;
}
