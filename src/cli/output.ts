// Where a command's words go. Human lines go to stdout; with --json, stdout carries exactly
// one JSON document and the human lines move to stderr. Logs always go to stderr, one line
// per event, without timestamps under systemd (JOURNAL_STREAM: the journal adds its own).
import { redactDeep, redactText } from '../config/redact.js';
import { formatLogLine, shows, type Level } from '../log.js';

export type { Level } from '../log.js';

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
