// A failed hook explained for a human, the way zx explains a failed command: which hook,
// which phase, how it ended (exit code with its usual meaning, or the signal and the
// timeout), then the last lines it wrote to stderr, which usually say why.

import { constants } from 'node:os';
import path from 'node:path';
import { OperationError } from '../errors.js';
import type { HookPhase, HookResult } from './types.js';

/** Conventional meanings of shell exit codes (the ones worth a word). */
const EXIT_CODE_MEANINGS: Record<number, string> = {
  1: 'general error',
  2: 'misuse of a shell builtin',
  126: 'a command inside it could not be executed',
  127: 'a command inside it was not found',
};

function exitCodeMeaning(code: number): string | undefined {
  const known = EXIT_CODE_MEANINGS[code];
  if (known) return known;
  // 128+n: the shell reports a command it ran that died of signal n.
  if (code > 128 && code < 128 + 65) {
    const signal = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
    if (signal) return `a command inside it was killed by ${signal}`;
  }
  return undefined;
}

/** How the hook ended, in one phrase: "exit code: 3 (general error)", "killed by SIGTERM after timeout 300 s". */
// Why a hook could not be started, by the errno spawn reported.
const START_ERRORS: Record<string, string> = {
  ENOENT: 'the file, or the interpreter on its "#!" line, does not exist on this host',
  EACCES: 'permission denied',
  ENOEXEC: 'not a binary and no "#!" line',
};

export function describeHookEnd(result: HookResult, timeoutSeconds: number): string {
  if (result.startError) {
    const why = START_ERRORS[result.startError];
    return `could not be started (${result.startError}${why ? `: ${why}` : ''})`;
  }
  if (result.timedOut) {
    return result.signal
      ? `killed by ${result.signal} after timeout ${timeoutSeconds} s`
      : `timed out after ${timeoutSeconds} s, then exited with code ${result.exitCode} on SIGTERM`;
  }
  if (result.signal) return `killed by ${result.signal}`;
  const meaning = result.exitCode === null ? undefined : exitCodeMeaning(result.exitCode);
  return `exit code: ${result.exitCode}${meaning ? ` (${meaning})` : ''}`;
}

const HINTS: Record<HookPhase, string> = {
  pre:
    'The rebuild stopped before touching any file. Fix or remove this hook in pacha_pre/ ' +
    "under the host's directory on the master, then run the rebuild again.",
  post:
    'Every file is in place; only this hook\'s own work is missing. Fix it in pacha_post/ ' +
    "under the host's directory on the master and run it by hand, or rebuild again.",
};

export interface HookErrorOptions {
  phase: HookPhase;
  /** The local directory the hook ran from (the staged copy of pacha_<phase>/). */
  dir: string;
  result: HookResult;
  timeoutSeconds: number;
}

/** A hook that exited non-zero, died of a signal, timed out or could not be started. */
export class HookError extends OperationError {
  override name = 'HookError';
  readonly phase: HookPhase;
  readonly result: HookResult;

  constructor({ phase, dir, result, timeoutSeconds }: HookErrorOptions) {
    const lines = [
      `${phase} hook "${result.name}" failed: ${describeHookEnd(result, timeoutSeconds)}`,
      `  hook: ${path.join(dir, result.name)}`,
    ];
    if (result.stderrTail.length > 0) {
      lines.push(`  last ${result.stderrTail.length} line(s) of its stderr:`);
      lines.push(...result.stderrTail.map((line) => `    ${line}`));
    } else {
      lines.push('  (it wrote nothing to stderr)');
    }
    super('EHOOK', lines.join('\n'), {
      hint: HINTS[phase],
      details: {
        phase,
        hook: result.name,
        exitCode: result.exitCode,
        signal: result.signal,
        timedOut: result.timedOut,
      },
    });
    this.phase = phase;
    this.result = result;
  }
}
