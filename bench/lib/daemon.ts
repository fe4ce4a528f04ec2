// `pacha daemon` as a child process for the daemon benchmarks (propagation, burst, footprint):
// the built CLI with an environment free of the caller's PACHA_* (the config file decides),
// its stderr kept and each log line stamped with the bench's own clock when it arrived, so a
// figure can be split into "until committed" and "until pushed" without parsing timestamps.
// (test/daemon/helpers/daemon-process.ts does the same for tests, but registers node:test
// after() hooks, which would turn a bench process into a test run.)
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { CLI, cleanEnv } from './pacha.js';

export interface LogLine {
  /** performance.now() when the line reached the bench. */
  at: number;
  text: string;
}

export interface DaemonProcess {
  child: ChildProcess;
  pid: number;
  lines: LogLine[];
  /** Resolves with the first line matching `pattern` that arrived at or after `since` (performance.now()). */
  waitFor(pattern: RegExp, options?: { since?: number; timeoutMs?: number }): Promise<LogLine>;
  /** SIGTERM, then the exit code (or signal name). */
  stop(): Promise<number | string>;
  exited: Promise<number | string>;
}

export function startDaemon(config: string, extraArgs: string[] = [], nodeArgs: string[] = []): DaemonProcess {
  const child = spawn(process.execPath, [...nodeArgs, CLI, '-c', config, 'daemon', ...extraArgs], {
    env: cleanEnv({ NODE_NO_WARNINGS: '1' }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    const at = performance.now();
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const text of parts) lines.push({ at, text });
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  // A bench that throws must not leave a daemon holding the state dir's lock; one that ended is let go
  // (a bench of six daemons would otherwise pass node's limit of ten listeners and warn).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));

  const waitFor = (pattern: RegExp, options: { since?: number; timeoutMs?: number } = {}): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const since = options.since ?? 0;
      const check = () => {
        const line = lines.find((l) => l.at >= since && pattern.test(l.text));
        if (!line) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(line);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no daemon log line matching ${pattern} within ${options.timeoutMs ?? 60_000} ms; last lines:\n${lines.slice(-20).map((l) => l.text).join('\n')}`));
      }, options.timeoutMs ?? 60_000);
      waiters.add(check);
      check();
      void exited.then((code) => {
        if (!waiters.has(check)) return;
        waiters.delete(check);
        clearTimeout(timer);
        reject(new Error(`daemon exited (${code}) before a line matching ${pattern}:\n${lines.slice(-20).map((l) => l.text).join('\n')}`));
      });
    });

  return {
    child,
    pid: child.pid!,
    lines,
    waitFor,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Resolves once `check()` is true, testing every `everyMs`; the performance.now() it was first seen true. */
/** A file's text, or undefined while it is not there (yet). */
export function readOr(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export async function pollUntil(check: () => boolean, options: { everyMs: number; timeoutMs: number; what: string }): Promise<number> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    if (check()) return performance.now();
    if (performance.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
    await new Promise((r) => setTimeout(r, options.everyMs));
  }
}

/** "2 CPUs, load average 1.23 0.98 0.50": figures taken on a shared machine say how busy it was. */
export function machineLoad(): string {
  return `${os.cpus().length} CPUs, load average ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}`;
}
