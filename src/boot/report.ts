// The boot report: <state>/boot.json (every step, its source and duration, the decision, the
// rebuild's summary, the error), written atomically even when boot fails, and its one-line
// form for the log and `pacha status`. Never holds a secret: step details name files and
// origins, never key material; errors are PachaErrors, whose messages never quote keys.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { redactDeep } from '../config/redact.js';
import { errnoCode } from '../errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../fs/atomic.js';
import type { RebuildReport } from '../rebuild/report.js';
import type { BootStep } from '../sources/steps.js';
import type { Decision } from './decide.js';

/** The rebuild's own report (src/rebuild/report.ts) without the per-entry lists. */
export type RebuildSummary = Pick<RebuildReport, 'master' | 'root' | 'totals' | 'hooks' | 'durations' | 'exitCode' | 'backupDir'>;

export interface BootReport {
  version: 1;
  startedAt: string;
  durationMs: number;
  host: string | null;
  /** Where the host name came from. */
  identity: string | null;
  dryRun: boolean;
  steps: BootStep[];
  decision: Pick<Decision, 'action' | 'reason' | 'plan'> | null;
  rebuild: RebuildSummary | null;
  exitCode: number;
  error: { code: string; message: string; hint?: string | undefined } | null;
}

export function bootReportFile(stateDir: string): string {
  return path.join(stateDir, 'boot.json');
}

export async function writeBootReport(stateDir: string, report: BootReport): Promise<string> {
  await ensurePrivateDir(stateDir);
  const file = bootReportFile(stateDir);
  await writeFileAtomic(file, `${JSON.stringify(redactDeep(report), null, 2)}\n`, 0o600);
  return file;
}

/** The last boot's report; undefined when this state dir never booted. */
export async function readBootReport(stateDir: string): Promise<BootReport | undefined> {
  try {
    return JSON.parse(await readFile(bootReportFile(stateDir), 'utf8')) as BootReport;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    if (error instanceof SyntaxError) return undefined; // a damaged report is not worth failing status over
    throw error;
  }
}

/** One line: when, which host, what was decided, how it ended. Pure. */
export function summarizeBoot(report: BootReport): string {
  const seconds = (report.durationMs / 1000).toFixed(1);
  const host = report.host ?? '(unknown host)';
  const parts = [`boot ${report.startedAt} ${host}${report.dryRun ? ' (dry run)' : ''}`];
  if (report.decision) parts.push(report.decision.action);
  if (report.rebuild) {
    const { totals: t, hooks } = report.rebuild;
    const failed = t.hooksFailed ? ` (${t.hooksFailed} failed)` : '';
    parts.push(`${t.repositories} path${t.repositories === 1 ? '' : 's'}, ${t.written} written, ${hooks.length} hook${hooks.length === 1 ? '' : 's'}${failed}`);
  }
  parts.push(report.error ? `failed (exit ${report.exitCode}): ${report.error.message}` : `exit ${report.exitCode}`);
  parts.push(`${seconds} s`);
  return parts.join(': ');
}
