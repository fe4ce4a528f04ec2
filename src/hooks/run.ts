// Runs one phase's hooks, one after the other, each as its own process group with a
// minimal environment and a time limit. Deciding what runs is orderHooks' job (order.ts);
// this module only acts.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { minimalEnv } from '../child-env.js';
import { errnoCode } from '../errors.js';
import { HookError } from './error.js';
import { LineSplitter } from './lines.js';
import type { HookContext, HookPhase, HookResult, OutputStream } from './types.js';

export interface RunHooksOptions {
  phase: HookPhase;
  /** The directory holding the hooks (the staged copy of pacha_<phase>/). */
  dir: string;
  /** Names to run, in this order: orderHooks(...).run. */
  names: readonly string[];
  /** Working directory of every hook: the stage. */
  cwd: string;
  env: HookContext;
  /** Time limit of one hook (pacha.hooks.timeout). */
  timeoutSeconds: number;
  /** Called for every line a hook writes, as it writes it. */
  onOutput?: (name: string, stream: OutputStream, line: string) => void;
  /** Time between SIGTERM and SIGKILL once a hook timed out. */
  killGraceMs?: number;
}

export interface HookRun {
  phase: HookPhase;
  /** One per hook that ran; in the pre phase, nothing after the first failure. */
  results: HookResult[];
  /** One HookError per failed hook (at most one in the pre phase). */
  failures: HookError[];
}

export const DEFAULT_KILL_GRACE_MS = 5_000;
const STDERR_TAIL_LINES = 10;
// After a hook exits, how long to wait for output still in the pipes. A process it left
// in the background may hold them open for ever; we stop reading rather than wait on it.
const DRAIN_MS = 500;

/**
 * The whole environment of a hook. Built from scratch, never from a copy of ours: pacha's
 * environment may hold secrets (PACHA_SSH_*, AWS_*, SSM values) that a hook must not see.
 */
export function hookEnvironment(
  phase: HookPhase,
  context: HookContext,
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  return {
    ...minimalEnv({}, parent),
    LANG: 'C',
    PACHA_HOST: context.PACHA_HOST,
    PACHA_PHASE: phase,
    PACHA_STAGE: context.PACHA_STAGE,
    PACHA_ROOT: context.PACHA_ROOT,
  };
}

export function hookFailed(result: HookResult): boolean {
  return result.startError !== undefined || result.timedOut || result.exitCode !== 0;
}

/** Run the hooks in order. A pre phase stops at the first failure; a post phase runs them all. */
export async function runHooks(options: RunHooksOptions): Promise<HookRun> {
  const env = hookEnvironment(options.phase, options.env);
  const results: HookResult[] = [];
  const failures: HookError[] = [];
  for (const name of options.names) {
    const result = await runHook(name, env, options);
    results.push(result);
    if (!hookFailed(result)) continue;
    failures.push(new HookError({ phase: options.phase, dir: options.dir, result, timeoutSeconds: options.timeoutSeconds }));
    // Nothing has been placed yet: stopping here leaves the host untouched.
    if (options.phase === 'pre') break;
  }
  return { phase: options.phase, results, failures };
}

/** Signal every process in the group led by pid (the hook and whatever it started). */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (errnoCode(error) !== 'ESRCH') throw error; // the group is already gone
  }
}

function runHook(name: string, env: Record<string, string>, options: RunHooksOptions): Promise<HookResult> {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) {
    throw new Error(`hook name ${JSON.stringify(name)} is not a plain file name`);
  }
  const started = performance.now();
  return new Promise((resolve) => {
    // detached: the hook leads a new process group, so a timeout can kill its children too.
    // stdin is /dev/null: a hook that prompts must not wait for an answer that never comes.
    const child = spawn(path.join(options.dir, name), [], {
      cwd: options.cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });

    const stderrTail: string[] = [];
    const deliver = (stream: OutputStream, lines: string[]): void => {
      for (const line of lines) {
        if (stream === 'stderr') {
          stderrTail.push(line);
          if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
        }
        options.onOutput?.(name, stream, line);
      }
    };
    const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
    child.stdout.on('data', (chunk: Buffer) => deliver('stdout', splitters.stdout.push(chunk)));
    child.stderr.on('data', (chunk: Buffer) => deliver('stderr', splitters.stderr.push(chunk)));

    let timedOut = false;
    let startError: string | undefined;
    let exitCode: number | null = null;
    let signal: NodeJS.Signals | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const timeoutTimer = setTimeout(() => {
      timedOut = true;
      signalGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    }, options.timeoutSeconds * 1000);

    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      // A timed-out hook's group goes entirely, including members that ignored SIGTERM.
      if (timedOut) signalGroup(child.pid, 'SIGKILL');
      deliver('stdout', splitters.stdout.end());
      deliver('stderr', splitters.stderr.end());
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({
        name,
        exitCode,
        signal,
        timedOut,
        durationMs: Math.round(performance.now() - started),
        ...(startError === undefined ? {} : { startError }),
        stderrTail,
      });
    };

    child.on('error', (error) => {
      // Not startable: missing file or interpreter (ENOENT), no permission (EACCES), not a
      // binary nor a script with "#!" (ENOEXEC).
      startError = errnoCode(error) ?? error.message;
      finish();
    });
    child.on('exit', (code, exitSignal) => {
      exitCode = code;
      signal = exitSignal;
      // The hook is over: its time limit no longer applies (unless the kill is under way).
      if (!timedOut) clearTimeout(timeoutTimer);
      drainTimer = setTimeout(finish, DRAIN_MS);
    });
    child.on('close', finish);
  });
}
