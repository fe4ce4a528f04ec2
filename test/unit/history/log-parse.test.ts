// Reading git log output: records and name-status fields of any file name, metadata patch
// lines; and a commit's changes within a scope (content and metadata-only alike).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commitChanges } from '../../../src/history/log.js';
import { parseLogNameStatus, parseMetadataLog } from '../../../src/history/log-parse.js';
import type { MetadataEntry } from '../../../src/store/metadata.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

test('name-status records, renames, and file names that look like record marks', () => {
  const odd = '\x1eodd\x1fname\nwith newline';
  const output =
    `\x1e${B}\x1f${A}\x1f2026-01-02T03:04:05+00:00\x1fPacha-Origin: daemon\nPacha-Boot: b-1\nSigned-off-by: x\n\x1fsubject \x1f with separators\0\n` +
    `M\0app.conf\0R087\0old name\0${odd}\0D\0gone\0` +
    `\x1e${A}\x1f\x1f2026-01-01T00:00:00+00:00\x1f\x1ftrack /opt/foo\0\nA\0app.conf\0`;
  const commits = parseLogNameStatus(output);
  assert.equal(commits.length, 2);
  assert.deepEqual(commits[0], {
    sha: B,
    parents: [A],
    time: '2026-01-02T03:04:05+00:00',
    subject: 'subject \x1f with separators',
    by: { origin: 'daemon', boot: 'b-1' },
    changes: [
      { kind: 'M', path: 'app.conf' },
      { kind: 'R', path: odd, detail: 'old name' },
      { kind: 'D', path: 'gone' },
    ],
  });
  assert.deepEqual(commits[1]!.parents, []);
  assert.deepEqual(commits[1]!.by, {});
  assert.deepEqual(commits[1]!.changes, [{ kind: 'A', path: 'app.conf' }]);
  assert.deepEqual(parseLogNameStatus(''), []);
  assert.throws(() => parseLogNameStatus('garbage\0'), /unexpected git log output/);
});

const entry = (p: string, mode: number, extra: Partial<MetadataEntry> = {}): MetadataEntry => ({
  path: p,
  type: 'file',
  mode,
  user: { id: 0, name: 'root' },
  group: { id: 0, name: 'root' },
  ...extra,
});

test('metadata patch lines: removed and added entries per commit', () => {
  const line = (sign: string, e: MetadataEntry, comma = ','): string => `${sign}    ${JSON.stringify(e)}${comma}`;
  const output = [
    `\x1e${B}`,
    '',
    'diff --git a/.pacha/metadata.json b/.pacha/metadata.json',
    '--- a/.pacha/metadata.json',
    '+++ b/.pacha/metadata.json',
    '@@ -3 +3 @@',
    line('-', entry('app.conf', 0o644)),
    line('+', entry('app.conf', 0o600), ''),
    `\x1e${A}`,
    '',
    '@@ -0,0 +1,4 @@',
    '+{"version":1,"location":"/opt/foo","host":"bar","single":false,',
    '+  "entries": [',
    line('+', entry('app.conf', 0o644), ''),
    '+  ]',
  ].join('\n');
  const deltas = parseMetadataLog(output);
  assert.deepEqual(deltas.get(B), { removed: [entry('app.conf', 0o644)], added: [entry('app.conf', 0o600)] });
  assert.deepEqual(deltas.get(A), { removed: [], added: [entry('app.conf', 0o644)] });
});

test("a commit's changes in a scope: a chmod alone counts, other paths do not", () => {
  const commit = { sha: B, parents: [A], time: '', subject: '', changes: [{ kind: 'M' as const, path: '.pacha/metadata.json' }, { kind: 'M' as const, path: 'other.conf' }] };
  const delta = { removed: [entry('app.conf', 0o644), entry('sub', 0o755, { type: 'directory' })], added: [entry('app.conf', 0o600)] };
  const whole = { entry: '.', whole: true };
  assert.deepEqual(commitChanges(commit, delta, whole, false), [
    { kind: 'M', path: 'other.conf' },
    { kind: 'P', path: 'app.conf', detail: 'mode 0644→0600' },
    { kind: 'D', path: 'sub/' },
  ]);
  assert.deepEqual(commitChanges(commit, delta, { entry: 'app.conf', whole: false }, false), [{ kind: 'P', path: 'app.conf', detail: 'mode 0644→0600' }]);
  assert.deepEqual(commitChanges(commit, delta, { entry: 'sub', whole: false }, false), [{ kind: 'D', path: 'sub/' }]);
  assert.deepEqual(commitChanges(commit, delta, { entry: 'app', whole: false }, false), [], 'a prefix of a name is not the name');
  const renamed = { ...commit, changes: [{ kind: 'R' as const, path: 'new.conf', detail: 'app.conf' }] };
  assert.deepEqual(commitChanges(renamed, undefined, { entry: 'app.conf', whole: false }, false), [{ kind: 'R', path: 'new.conf', detail: 'app.conf' }]);
  const root = { ...commit, parents: [], changes: [{ kind: 'A' as const, path: 'app.conf' }] };
  const rootDelta = { removed: [], added: [entry('.', 0o755, { type: 'directory' }), entry('app.conf', 0o644), entry('empty', 0o755, { type: 'directory' })] };
  assert.deepEqual(commitChanges(root, rootDelta, whole, false), [{ kind: 'A', path: 'app.conf' }, { kind: 'A', path: 'empty/' }]);
});
