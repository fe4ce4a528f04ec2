// The rebuild (the README, "Rebuild"), steps 1 to 8: list the host on the master, stage every
// repository, plan, run pre hooks, place, register for tracking, run post hooks, report.
// Nothing on the host is touched before every repository is staged, planned and judged
// safe, and the pre hooks have passed.
import path from 'node:path';
import type { Accounts } from '../accounts.js';
import { MasterError, OperationError, UsageError } from '../errors.js';
import { orderHooks, runHooks, type HookPhase, type HookResult, type OutputStream } from '../hooks/index.js';
import type { HostListing, Master } from '../master/master.js';
import { sanitizeName } from '../store/registry.js';
import type { Metadata } from '../store/metadata.js';
import type { Store } from '../store/store.js';
import { trackableProblem } from '../store/trackable.js';
import { inspectStage, inspectTarget, mapLimit } from './inspect.js';
import { loadTargetAccounts, recordedNames, resolveOwners } from './owners.js';
import { backupDirFor, placeRepository, type PlaceProgress, type PlaceResult } from './place.js';
import { hostRootOf, planRepository, targetRootOf, type Plan } from './plan.js';
import { buildRebuildReport, type HookReport, type NotRestored, type RebuildReport } from './report.js';
import { outsideTrackedReason, scopeRepositories } from './scope.js';
import { createStage, removeStaleStages, stageRepository, type StagedRepository } from './stage.js';
import { stagedEntries } from './v8-settings.js';

/**
 * Repositories cloned (and checked out, and planned) at once. With 4, a host of five tracked
 * paths staged the fifth alone once one of the first four was done: its whole clone and
 * checkout on one core at the end. Six exec channels on the one connection stay under
 * OpenSSH's MaxSessions (10) beside SFTP and the kept session.
 */
const PARALLEL_CLONES = 6;
/** How long a clone keeps retrying a dropped connection when the caller gives no budget. */
const DEFAULT_DROP_RETRY_MS = 60_000;
const firstLine = (text: string): string => text.split('\n').map((l) => l.trim()).find(Boolean) ?? text;

export interface RebuildOptions {
  master: Master;
  /** Where the rebuilt paths are registered for tracking (only when root is '/'). */
  store: Store;
  host: string;
  stateDir: string;
  root: string;
  /** Only this repository (its name on the master, or its location). */
  directory?: string;
  /** What this host tracks (pacha.watch): a repository whose location lies outside is not restored. Empty: no limit. */
  tracked?: readonly string[];
  dryRun?: boolean;
  hooksTimeoutSeconds: number;
  /** How long a clone may keep retrying a connection the master dropped (ms; boot: what is left of pacha.boot.timeout). Default 60 s. */
  dropRetryBudgetMs?: number;
  events?: RebuildEvents;
  /** Several masters (choose-master.ts): the host's listing across them, and the master each repository comes from. */
  choice?: { listing: HostListing | undefined; byRepository: ReadonlyMap<string, Master> };
}

export interface RebuildEvents {
  staged?(repository: StagedRepository, files: number, bytes: number): void;
  planned?(plan: Plan): void;
  hooksSkipped?(phase: HookPhase, skipped: Array<{ name: string; reason: string }>): void;
  hookOutput?(phase: HookPhase, name: string, stream: OutputStream, line: string): void;
  hookDone?(phase: HookPhase, result: HookResult): void;
  placing?(progress: PlaceProgress): void;
  placed?(result: PlaceResult): void;
  /** A clone is tried again: the master dropped the connection (MaxStartups under load). */
  cloneRetry?(name: string, attempt: number, reason: string, delayMs: number): void;
  registered?(name: string, location: string, outcome: 'tracked' | 'kept-local' | 'not-registered'): void;
}

export interface Registration {
  name: string;
  location: string;
  outcome: 'tracked' | 'kept-local' | 'not-registered';
}

/** A dry run stops at the plans; a real run adds the report (report.ts) and what was registered. */
export type RebuildOutcome =
  | { dryRun: true; plans: Plan[]; notRestored: NotRestored[] }
  | { dryRun: false; plans: Plan[]; report: RebuildReport; registered: Registration[]; skippedHooks: SkippedHookReport[] };

export interface SkippedHookReport {
  phase: HookPhase;
  name: string;
  reason: string;
}

function hookReport(phase: HookPhase, r: HookResult): HookReport {
  return { phase, name: r.name, exitCode: r.exitCode, timedOut: r.timedOut, durationMs: Math.round(r.durationMs) };
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

export async function rebuild(options: RebuildOptions): Promise<RebuildOutcome> {
  const { master, host, events = {} } = options;
  const started = Date.now();
  const durations: Record<string, number> & { totalMs: number } = { totalMs: 0 };
  let mark = started;
  const lap = (step: string): void => {
    const now = Date.now();
    durations[step] = now - mark;
    mark = now;
  };

  // 1. The host on the master.
  const listing = options.choice ? options.choice.listing : await master.describeHost(host);
  if (!listing) {
    // The list is only a hint: credentials limited to one host may not read it (S3 under IAM).
    const hosts = await master.listHosts().catch(() => undefined);
    throw new MasterError(`${master.label} has no host '${host}'`, {
      code: 'ENOHOST',
      hint: !hosts ? `check the name; these credentials may not list the master's other hosts` : hosts.length ? `the master has: ${hosts.join(', ')}` : `the master has no hosts yet under ${master.hostsPath}`,
    });
  }
  const names = selectRepositories(listing.repositories, options.directory, host);

  // 2-3. Stage and clone; first, what a killed run left in the state dir.
  const staleStages = await removeStaleStages(options.stateDir);
  const stage = await createStage(options.stateDir);
  try {
    // In parallel: a clone waits on the master, then on index-pack and checkout (one core each).
    // With several masters, each repository comes from the one with its newest history (choose-master.ts).
    // Each repository is planned as soon as it is staged (read-only: nothing is touched before
    // every plan is in and judged safe), so planning one overlaps the others' clones.
    const backupDir = backupDirFor(options.stateDir, new Date(started));
    const fetched = await mapLimit(names, PARALLEL_CLONES, async (name) => {
      const repository = await stageRepository(options.choice?.byRepository.get(name) ?? master, host, name, stage.dir, {
        budgetMs: options.dropRetryBudgetMs ?? DEFAULT_DROP_RETRY_MS,
        onRetry: (attempt, error, delayMs) => options.events?.cloneRetry?.(name, attempt, firstLine(error.message), delayMs),
      });
      // Out of scope: never inspected, never placed (scope.ts).
      if (outsideTrackedReason(repository.metadata.location, options.tracked ?? [])) return { repository, plan: undefined };
      stagedEntries(repository.metadata.entries.length); // a large tree is planned and placed compiled (v8-settings.ts)
      return { repository, plan: await planStaged(repository, options, backupDir) };
    });
    const { restore: staged, notRestored } = scopeRepositories(fetched.map((f) => f.repository), options.tracked ?? []);
    const plans: Plan[] = [];
    for (const { repository, plan } of fetched) {
      if (!plan) continue;
      events.staged?.(repository, repository.metadata.entries.length, plan.bytes);
      events.planned?.(plan);
      plans.push(plan);
    }
    lap('stageMs'); // cloning and planning, overlapped
    const refused = plans.filter((p) => p.refused.length > 0);
    if (refused.length > 0) {
      const lines = refused.flatMap((p) => p.refused.map((r) => `${p.repository}: ${r.path}: ${r.reason}`));
      throw new OperationError('EUNSAFE', `refusing to rebuild; nothing was touched:\n  ${lines.join('\n  ')}`, {
        hint: 'fix the target (or the repository on the master) and run the rebuild again',
        details: { refused: lines },
      });
    }
    if (options.dryRun) return { dryRun: true, plans, notRestored };

    // 5. Pre hooks: a failure stops the rebuild before any file is touched.
    const hooks: HookReport[] = [];
    const skippedHooks: SkippedHookReport[] = [];
    const hookEnv = { PACHA_HOST: host, PACHA_STAGE: stage.dir, PACHA_ROOT: options.root };
    const runPhase = async (phase: HookPhase) => {
      const dir = path.join(stage.dir, 'hooks', phase);
      const order = orderHooks(await master.fetchHooks(host, phase, dir));
      if (order.skipped.length) {
        events.hooksSkipped?.(phase, order.skipped);
        skippedHooks.push(...order.skipped.map((s) => ({ phase, ...s })));
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
        hooks.push(hookReport(phase, result));
      }
      lap(`${phase}HooksMs`);
      return run;
    };
    const pre = await runPhase('pre');
    if (pre.failures.length > 0) throw pre.failures[0]!;

    // 6. Place.
    const placed: PlaceResult[] = [];
    for (const plan of plans) {
      const result = await placeRepository(plan, {
        root: options.root,
        backupDir,
        consumeStage: true, // removed below: its files are moved into place, not copied
        ...(events.placing ? { onProgress: events.placing } : {}),
      });
      placed.push(result);
      events.placed?.(result);
    }
    lap('placeMs');

    // 7. Register for tracking on the same history, then post hooks.
    const registered: Registration[] = [];
    for (const repository of staged) registered.push(await register(options, repository, events));
    lap('registerMs');
    await runPhase('post');

    // 8. The report: exit 4 when a post hook failed or an owner could not be restored by name.
    durations.totalMs = Date.now() - started;
    const report = buildRebuildReport({
      host,
      master: master.label,
      root: options.root,
      startedAt: new Date(started).toISOString(),
      backupDir,
      placed,
      notRestored,
      hooks,
      durations,
      staleStages,
    });
    return { dryRun: false, plans, report, registered, skippedHooks };
  } finally {
    await stage.remove();
  }
}

/** Plan one staged repository against the target (read-only). */
async function planStaged(repository: StagedRepository, options: RebuildOptions, backupDir: string): Promise<Plan> {
  const accounts = await loadTargetAccounts(options.root, recordedNames(repository.metadata.entries));
  const plan = await inspectAndPlan({
    repository: repository.name,
    metadata: repository.metadata,
    stageTree: repository.tree,
    root: options.root,
    accounts,
    backupRoot: path.join(backupDir, hostRootOf(repository.metadata)),
  });
  // A master's metadata may name a parent of (or a place inside) this host's state dir.
  const stateProblem = trackableProblem(path.join(options.root, repository.metadata.location), options.stateDir);
  if (stateProblem) plan.refused.push({ path: '.', reason: `its location ${repository.metadata.location} cannot be placed: ${stateProblem}` });
  return plan;
}

/**
 * The read-only half of placing one repository: inspect its stage and its target, then
 * plan. `metadata` must come from validateMetadata; `accounts` from loadTargetAccounts.
 */
export async function inspectAndPlan(options: {
  repository: string;
  metadata: Metadata;
  stageTree: string;
  root: string;
  accounts: Accounts;
  /** Where displaced entries go (the rebuild's backup dir); without it, the plan's default. */
  backupRoot?: string;
  /** The metadata is part of the tree (PlanInput.partial). */
  partial?: boolean;
}): Promise<Plan> {
  const { repository, metadata, stageTree, root, accounts } = options;
  const staged = await inspectStage(stageTree, metadata, repository);
  const target = await inspectTarget(targetRootOf(metadata, root), metadata, staged);
  const owners = resolveOwners(metadata.entries, accounts);
  return planRepository({
    repository, metadata, root, staged, target, owners,
    ...(options.backupRoot !== undefined ? { backupRoot: options.backupRoot } : {}),
    ...(options.partial ? { partial: true } : {}),
  });
}

/**
 * The rebuilt path is tracked on the master's history. A path this host already tracks with
 * commits the master lacks keeps its local history (nothing lost). Under --root the files
 * belong to another system (a mounted image): that system's own pacha tracks them.
 */
async function register(options: RebuildOptions, repository: StagedRepository, events: RebuildEvents): Promise<Registration> {
  const { location, single, ignore } = repository.metadata;
  let outcome: 'tracked' | 'kept-local' | 'not-registered' = 'tracked';
  if (path.resolve(options.root) !== '/') {
    outcome = 'not-registered';
  } else {
    const existing = await options.store.find(location);
    if (existing && existing.location === location && (await options.store.unpushed(existing)) > 0) {
      outcome = 'kept-local';
    } else {
      // The path's own ignore patterns travel in its metadata: the rebuilt host leaves out what the dead one did.
      await options.store.adopt({ location, name: repository.name, single, ...(ignore?.length ? { ignore } : {}) }, repository.gitDir, repository.head);
    }
  }
  events.registered?.(repository.name, location, outcome);
  return { name: repository.name, location, outcome };
}
