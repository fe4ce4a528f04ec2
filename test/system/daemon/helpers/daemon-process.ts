// The daemon as a process: the built CLI, `pacha -c CONFIG daemon`.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import { CLI } from '../../../helpers/cli.js';

function command(config: string): string[] {
  return [CLI, '-c', config, 'daemon'];
}

export interface DaemonProcess {
  child: ChildProcess;
  pid: number;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Resolves once stderr has a line matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function startDaemon(config: string, env: Record<string, string> = {}): DaemonProcess {
  const child = spawn(process.execPath, command(config), {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', NODE_NO_WARNINGS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const w of waiters) w();
  });
  child.stdout!.resume();
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    pid: child.pid!,
    stderr: () => stderr,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = stderr.split('\n').find((l) => pattern.test(l));
          if (line === undefined) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(line);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr:\n${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
        void exited.then(() => {
          if (waiters.has(check) && !check()) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`daemon exited before a line matching ${pattern}; stderr:\n${stderr}`));
          }
        });
      });
    },
  };
}

/**
 * Cut the daemon's connections to the master, as a network outage would: kill the OpenSSH
 * connection-sharing processes of this state dir (stopping sshd alone keeps established
 * sessions alive). Returns how many were killed.
 */
export function dropMasterConnections(stateDir: string): number {
  const marker = `${path.join(stateDir, 'ssh')}/cm-`;
  let killed = 0;
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.startsWith('ssh') || !cmdline.includes(marker)) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      /* already gone */
    }
  }
  return killed;
}
