// Run one command and time it from spawn to exit (wall clock, hrtime), optionally with its
// peak RSS. Output is captured, never inherited, so a benchmark prints only its figures.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TimedRun {
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /**
   * Peak RSS in KiB as GNU time reports it (ru_maxrss of the command: the largest of the
   * command and the children it waited for). Only with `peakRss: true`.
   */
  maxRssKib?: number;
  /**
   * CPU seconds, user + system, of the command and the children it waited for (GNU time's
   * %U + %S). Only with `peakRss: true` or `cpu: true`.
   */
  cpuSeconds?: number;
}

export interface TimedOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Wrap in /usr/bin/time to read the peak RSS (adds one fork+exec, well under 1 ms). */
  peakRss?: boolean;
  /** Wrap in /usr/bin/time to read the CPU time (the same wrapper as peakRss). */
  cpu?: boolean;
  input?: string;
}

export async function runTimed(command: string, args: readonly string[], options: TimedOptions = {}): Promise<TimedRun> {
  let timeFile: string | undefined;
  let file = command;
  let argv = [...args];
  if (options.peakRss || options.cpu) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pacha-bench-time-'));
    timeFile = path.join(dir, 'rss');
    file = '/usr/bin/time';
    argv = ['-f', '%U %S %M', '-o', timeFile, command, ...args];
  }
  const started = process.hrtime.bigint();
  const child = spawn(file, argv, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined); // a command that exits without reading its input (EPIPE)
  child.stdin.end(options.input ?? '');
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const run: TimedRun = { ms, code, signal, stdout, stderr };
  if (timeFile) {
    // GNU time writes "Command exited with non-zero status N" before the figures on failure.
    const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
    const [user, system, rss] = (lines.at(-1) ?? '').split(' ').map(Number);
    run.maxRssKib = rss;
    run.cpuSeconds = user! + system!;
    rmSync(path.dirname(timeFile), { recursive: true, force: true });
  }
  return run;
}

/** runTimed, and throw with its output when it does not exit 0. */
export async function runOk(command: string, args: readonly string[], options: TimedOptions = {}): Promise<TimedRun> {
  const run = await runTimed(command, args, options);
  if (run.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${run.code ?? run.signal}\n${run.stdout}\n${run.stderr}`);
  }
  return run;
}
