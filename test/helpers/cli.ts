// Run the built CLI (dist/cli/main.js, built by `npm test`) as a user would, and write
// config files for it. The child gets an explicit environment, never this process's:
// a developer's own PACHA_* variables must not change what a test sees.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface RunOptions {
  /** Variables added to the child's environment (which otherwise holds only PATH and HOME). */
  env?: Record<string, string>;
  /** Written to the child's standard input, then closed. Without it stdin is empty (not a TTY). */
  input?: string;
  cwd?: string;
  /** Run as this user and group (tests of what a non-root user sees). */
  uid?: number;
  gid?: number;
  /** The node binary (default this process's); another user may need one it can reach. */
  node?: string;
  /** The script node runs (default CLI, the tsc build's main.js): e.g. the installed bundle. */
  entry?: string;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `pacha ARGS…` in a child process; resolves when it exits (never rejects on a non-zero exit). */
export function runPacha(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    ...options.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(options.node ?? process.execPath, [options.entry ?? CLI, ...args], {
      env,
      cwd: options.cwd ?? process.cwd(),
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    // The child may exit before reading its input (a usage error): that is not a test failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Write `lines` (one per element) to `dir`/pacha.conf, or to `dir`/`name`; returns the path. */
export function writeConfig(dir: string, lines: readonly string[], name = 'pacha.conf'): string {
  const file = path.join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
