// The copy of a rebuild's report kept under the state dir, <state>/reports/rebuild-<when>.json,
// written by whoever ran the rebuild (`pacha rebuild`, boot). Secrets redacted, mode 0600.
import path from 'node:path';
import { redactDeep } from '../config/redact.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { fileStamp } from '../fs/file-stamp.js';
import type { Registration, SkippedHookReport } from './rebuild.js';
import type { RebuildReport } from './report.js';

/** What the file holds: the report, what was registered for tracking, the hooks skipped. */
export interface RebuildRecord {
  report: RebuildReport;
  registered: Registration[];
  skippedHooks: SkippedHookReport[];
}

export function rebuildReportFile(stateDir: string, report: RebuildReport): string {
  return path.join(stateDir, 'reports', `rebuild-${fileStamp(new Date(report.startedAt))}.json`);
}

/** The JSON document of a rebuild: the report's fields with `registered` and `skippedHooks`. */
export function rebuildRecordJSON({ report, registered, skippedHooks }: RebuildRecord): Record<string, unknown> {
  return { ...report, registered, skippedHooks };
}

/** Writes the record atomically; returns the file's path. */
export async function writeRebuildReport(stateDir: string, record: RebuildRecord): Promise<string> {
  const file = rebuildReportFile(stateDir, record.report);
  await writeFileAtomic(file, `${JSON.stringify(redactDeep(rebuildRecordJSON(record)), null, 2)}\n`, 0o600);
  return file;
}
