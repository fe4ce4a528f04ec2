// Where a command's words go. Human lines go to stdout; with --json, stdout carries exactly
// one JSON document and the human lines move to stderr. Logs always go to stderr, one line
// per event, secrets redacted, without timestamps under systemd (JOURNAL_STREAM: the journal
// adds its own). The daemon logs through `streamLog`, the CLI through `Output`: nothing below
// cli/ imports cli/.
import { redactDeep, redactText } from './config/redact.js';

export type Level = 'error' | 'warn' | 'info' | 'debug';
export type Log = (level: Level, message: string) => void;

const RANK: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** Whether a line of `level` shows at the threshold `threshold`. */
export function shows(level: Level, threshold: Level): boolean {
  return RANK[level] <= RANK[threshold];
}

/** One log line as written: `[stamp ]pacha: [level: ]message`, redacted. */
export function formatLogLine(level: Level, message: string, env: NodeJS.ProcessEnv = process.env): string {
  const prefix = level === 'info' ? '' : `${level}: `;
  const stamp = env.JOURNAL_STREAM ? '' : `${new Date().toISOString()} `;
  return `${stamp}pacha: ${prefix}${redactText(message)}\n`;
}

/** A logger writing to `stream` (stderr), lines above `threshold` dropped. */
export function streamLog(threshold: Level = 'info', stream: NodeJS.WritableStream = process.stderr, env: NodeJS.ProcessEnv = process.env): Log {
  return (level, message) => {
    if (shows(level, threshold)) stream.write(formatLogLine(level, message, env));
  };
}

export class Output {
  level: Level = 'info';
  readonly isTerminal: boolean;

  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.isTerminal = Boolean((stdout as NodeJS.WriteStream).isTTY) && !json;
  }

  /** A line for the person reading (a result, a plan, a summary). */
  say(line = ''): void {
    (this.json ? this.stderr : this.stdout).write(`${redactText(line)}\n`);
  }

  /**
   * The one deliberate exception to redaction: a secret the person asked to see, written to
   * stdout once (`add-host --keygen` without --key-out). Never with --json, never to the log.
   */
  revealSecret(text: string): void {
    if (this.json) throw new Error('a secret is never written with --json');
    this.stdout.write(`${text}\n`);
  }

  /** The machine-readable result (only with --json). */
  result(value: unknown): void {
    if (this.json) this.stdout.write(`${JSON.stringify(redactDeep(value), null, 2)}\n`);
  }

  log(level: Level, message: string): void {
    if (shows(level, this.level)) this.stderr.write(formatLogLine(level, message, this.env));
  }

  error(message: string): void {
    this.log('error', message);
  }
  warn(message: string): void {
    this.log('warn', message);
  }
  info(message: string): void {
    this.log('info', message);
  }
  debug(message: string): void {
    this.log('debug', message);
  }

  /** A progress line that rewrites itself on a terminal; silent elsewhere (the caller logs lines). */
  progress(text: string): void {
    if (this.isTerminal) (this.stdout as NodeJS.WriteStream).write(`\r\x1b[K${redactText(text)}`);
  }
  endProgress(): void {
    if (this.isTerminal) (this.stdout as NodeJS.WriteStream).write('\r\x1b[K');
  }
}
