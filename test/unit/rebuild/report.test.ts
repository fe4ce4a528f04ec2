import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExitCode } from '../../../src/errors.js';
import type { PlaceResult } from '../../../src/rebuild/place.js';
import type { Plan } from '../../../src/rebuild/plan.js';
import {
  buildRebuildReport,
  computeTotals,
  formatBytes,
  formatPlan,
  formatReport,
  planToJSON,
  rebuildExitCode,
  repositoryReport,
  reportToJSON,
  type HookReport,
  type RebuildReport,
} from '../../../src/rebuild/report.js';

const placed: PlaceResult = {
  cleaned: [],
  repository: 'foo',
  location: '/opt/foo',
  targetRoot: '/opt/foo',
  files: 12,
  bytes: 3 * 1024 * 1024,
  written: 10,
  unchanged: 2,
  metadataUpdated: 0,
  backedUp: 1,
  backups: ['/var/lib/pacha/backups/t/opt/foo/a'],
  skipped: [],
  failed: [],
  ownersNotFound: [{ kind: 'user', name: 'deploy', id: 1001, paths: ['app/config.yml'] }],
  extras: ['cache'],
  durationMs: 1500,
};
const hooks: HookReport[] = [
  { name: '01-stop', phase: 'pre', exitCode: 0, durationMs: 20 },
  { name: '10-start', phase: 'post', exitCode: 3, durationMs: 2100 },
];

function report(repos = [repositoryReport(placed)], hookList = hooks): RebuildReport {
  const totals = computeTotals(repos, hookList);
  return {
    host: 'bar',
    master: 'bar_user@master.example.com:22',
    staleStages: [],
    root: '/',
    startedAt: '2026-01-01T03:00:00.000Z',
    backupDir: '/var/lib/pacha/backups/t',
    repositories: repos,
    notRestored: [],
    hooks: hookList,
    totals,
    durations: { stageMs: 800, placeMs: 1500, totalMs: 4200 },
    exitCode: rebuildExitCode(totals),
  };
}

describe('report', () => {
  it('totals and exit code: a failed hook or an owner not found is exit 4', () => {
    const r = report();
    assert.deepEqual(r.totals, {
      repositories: 1, notRestored: 0, files: 12, bytes: 3 * 1024 * 1024, written: 10, unchanged: 2, metadataUpdated: 0, backedUp: 1, ownersNotFound: 1, extras: 1, hooksFailed: 1, failed: 0,
    });
    assert.equal(r.exitCode, ExitCode.partial);
    const clean = report([{ ...repositoryReport(placed), ownersNotFound: [] }], [hooks[0]!]);
    assert.equal(clean.exitCode, ExitCode.ok);
    // A device node this system could not make: exit 4, named in the summary.
    const noDevice = report([{ ...repositoryReport(placed), ownersNotFound: [], failed: [{ path: 'dev/null', reason: 'cannot make a character device here: Operation not permitted' }] }], [hooks[0]!]);
    assert.equal(noDevice.exitCode, ExitCode.partial);
    assert.match(formatReport(noDevice), /Could not be made in foo:\n  dev\/null: cannot make a character device/);
    assert.match(formatReport(noDevice), /1 entry could not be made/);
  });

  it('a repository not restored (outside pacha.watch) is exit 4 and listed, with its reason', () => {
    const totals = computeTotals([], [], 1);
    assert.equal(totals.notRestored, 1);
    assert.equal(rebuildExitCode(totals), ExitCode.partial);
    const text = formatReport({ ...report([], []), totals, exitCode: rebuildExitCode(totals), notRestored: [{ name: 'ssh', location: '/root/.ssh', reason: 'outside' }] });
    assert.match(text, /NOT restored:\n  ssh → \/root\/\.ssh: outside/);
    assert.match(text, /Exit 4: 1 repository not restored\./);
  });

  it('the human summary puts the verdict first and names what needs attention', () => {
    const text = formatReport(report());
    const lines = text.split('\n');
    assert.match(lines[0]!, /^Rebuilt WITH FAILURES bar from bar_user@master\.example\.com:22: 1 repository, 12 entries, 3\.0 MiB written in 4\.2 s$/);
    assert.match(text, /foo → \/opt\/foo: 12 entries, 3\.0 MiB written; 10 written, 2 unchanged, 1 backed up \(1\.5 s\)/);
    assert.match(text, /pre 01-stop: ok/);
    assert.match(text, /post 10-start: FAILED \(exit 3\)/);
    assert.match(text, /user "deploy" unknown here: uid 1001 used, in foo: app\/config\.yml/);
    assert.match(text, /Left alone in \/opt\/foo \(not in the repository\): cache/);
    assert.match(text, /Displaced entries kept in \/var\/lib\/pacha\/backups\/t/);
    assert.match(lines.at(-1)!, /^Exit 4: 1 hook failed, 1 owner not found by name\.$/);
  });

  it('a clean second run reads as such', () => {
    const repo = { ...repositoryReport(placed), written: 0, unchanged: 12, backedUp: 0, bytes: 0, ownersNotFound: [], extras: [] };
    const text = formatReport(report([repo], []));
    assert.match(text, /^Rebuilt bar from .*: 1 repository, 12 entries, 0 B written/);
    assert.doesNotMatch(text, /FAIL|Exit|backed up|Owners/);
  });

  it('JSON is the report itself', () => {
    const r = report();
    assert.deepEqual(JSON.parse(reportToJSON(r)), JSON.parse(JSON.stringify(r)));
  });

  it('formatBytes', () => {
    assert.deepEqual([0, 1023, 1024, 1536, 10 * 1024 * 1024, 5 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '10 MiB', '5.0 GiB']);
  });

  it('the dry-run plan lists what would change, refusals first, and says nothing was touched', () => {
    const plan: Plan = {
      repository: 'foo', location: '/opt/foo', single: false, targetRoot: '/opt/foo', hostRoot: '/opt/foo', rootState: 'directory', leftovers: [],
      entries: [
        { path: 'a', type: 'file', action: 'replace', reason: 'content differs', mode: 0o644, uid: 0, gid: 0, size: 3, source: '/stage/a', current: { kind: 'absent' } },
        { path: 'b', type: 'file', action: 'unchanged', mode: 0o644, uid: 0, gid: 0, size: 3, current: { kind: 'absent' } },
      ],
      ownersNotFound: [], extras: ['x'], refused: [{ path: 'c', reason: '"sub" in the target is a symlink' }],
      counts: { create: 0, replace: 1, 'update-metadata': 0, unchanged: 1, skip: 0 }, bytes: 6,
    };
    const text = formatPlan([plan]);
    assert.match(text, /foo → \/opt\/foo: 0 to create, 1 to replace, 0 mode\/owner to fix, 1 unchanged/);
    assert.match(text, /REFUSED c: "sub" in the target is a symlink/);
    assert.match(text, /replace +a \(content differs\)/);
    assert.doesNotMatch(text, / b\b/);
    assert.match(text, /Dry run: nothing was touched\.$/);
    const json = planToJSON([plan]) as Array<{ entries: Array<Record<string, unknown>> }>;
    assert.equal(json[0]?.entries[0]?.source, undefined); // staging paths stay out of --json
    assert.equal(json[0]?.entries[0]?.action, 'replace');
  });

  it('buildRebuildReport assembles placement results and hooks', () => {
    const built = buildRebuildReport({
      host: 'bar', master: 'local:/pacha/hosts', root: '/', startedAt: 'now', backupDir: '/b',
      placed: [{ ...placed, ownersNotFound: [], backedUp: 0 }],
      hooks: [{ ...hooks[0]!, timedOut: false }],
      durations: { totalMs: 10 },
    });
    assert.equal(built.exitCode, ExitCode.ok);
    assert.equal(built.backupDir, undefined, 'no backup dir is named when nothing was displaced');
    assert.equal(built.repositories[0]?.name, 'foo');
    assert.equal(built.totals.written, 10);
  });
});
