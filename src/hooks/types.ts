// The words every hook module shares: the phase, an output stream, what a hook is told, how it ended.

export type HookPhase = 'pre' | 'post';
export type OutputStream = 'stdout' | 'stderr';

/** What the caller tells every hook about the rebuild. */
export interface HookContext {
  PACHA_HOST: string;
  /** The rebuild's staging directory (also the hooks' working directory). */
  PACHA_STAGE: string;
  /** Where files are placed: "/" normally, the --root directory otherwise. */
  PACHA_ROOT: string;
}

export interface HookResult {
  name: string;
  /** null when it died of a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  durationMs: number;
  /** errno code (ENOENT, EACCES, ENOEXEC …) when the hook could not be started at all. */
  startError?: string;
  /** Its last lines on stderr, for the error message and the report. */
  stderrTail: string[];
}
