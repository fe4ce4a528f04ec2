// Log lines: one per event on stderr, secrets redacted, without timestamps under systemd
// (JOURNAL_STREAM: the journal adds its own). The daemon and the CLI's Output share it, so
// nothing below cli/ needs to import cli/.
import { redactText } from './config/redact.js';

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
