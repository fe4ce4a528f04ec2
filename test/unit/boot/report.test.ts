import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { describe, test } from 'node:test';
import { bootReportFile, readBootReport, summarizeBoot, writeBootReport, type BootReport } from '../../../src/boot/report.js';
import { tempDir } from '../../helpers/tmp.js';

const report = (extra: Partial<BootReport> = {}): BootReport => ({
  version: 1,
  startedAt: '2026-01-02T03:04:05.000Z',
  durationMs: 1234,
  host: 'bar',
  identity: 'user data /u',
  dryRun: false,
  steps: [],
  decision: { action: 'rebuild', reason: 'no local state', plan: [] },
  rebuild: null,
  exitCode: 0,
  error: null,
  ...extra,
});

describe('boot report', () => {
  test('summary of a rebuild: host, action, totals, hooks, exit, duration', () => {
    const line = summarizeBoot(
      report({
        rebuild: {
          master: 'm',
          root: '/',
          totals: { repositories: 1, notRestored: 0, files: 9, bytes: 10, written: 9, unchanged: 0, metadataUpdated: 0, backedUp: 0, ownersNotFound: 0, extras: 0, hooksFailed: 1, failed: 0 },
          hooks: [
            { name: 'a', phase: 'pre', exitCode: 0, durationMs: 1 },
            { name: 'b', phase: 'post', exitCode: 1, durationMs: 1 },
          ],
          durations: { totalMs: 900 },
          exitCode: 4,
        },
        exitCode: 4,
      }),
    );
    assert.equal(line, 'boot 2026-01-02T03:04:05.000Z bar: rebuild: 1 path, 9 written, 2 hooks (1 failed): exit 4: 1.2 s');
  });

  test('summary of a failure names the error', () => {
    const line = summarizeBoot(report({ decision: null, exitCode: 3, error: { code: 'EBOOTTIMEOUT', message: 'master m did not answer within 2 s' } }));
    assert.match(line, /bar: failed \(exit 3\): master m did not answer within 2 s: 1\.2 s$/);
  });

  test('written atomically with mode 0600 in a 0700 dir, read back; absent reads as undefined', async () => {
    const dir = `${tempDir()}/state`;
    assert.equal(await readBootReport(dir), undefined);
    await writeBootReport(dir, report());
    assert.equal(statSync(bootReportFile(dir)).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(await readBootReport(dir), report());
  });
});
