// Metadata differences entry by entry, in a scope, and how they read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffMetadata, formatDifference } from '../../../src/history/metadata-diff.js';
import type { Metadata, MetadataEntry } from '../../../src/store/metadata.js';

const entry = (p: string, extra: Partial<MetadataEntry> = {}): MetadataEntry => ({
  path: p,
  type: 'file',
  mode: 0o644,
  user: { id: 0, name: 'root' },
  group: { id: 0, name: 'root' },
  ...extra,
});
const meta = (entries: MetadataEntry[]): Metadata => ({ version: 1, location: '/opt/foo', host: 'bar', single: false, entries });
const whole = { entry: '.', whole: true };

test('mode, owner, group, type and target changes; added and removed entries', () => {
  const before = meta([
    entry('.', { type: 'directory', mode: 0o755 }),
    entry('a.conf'),
    entry('gone'),
    entry('link', { type: 'symlink', mode: 0o777, target: 'a.conf' }),
    entry('same'),
    entry('x', { user: { id: 1000, name: 'www' } }),
  ]);
  const after = meta([
    entry('.', { type: 'directory', mode: 0o755 }),
    entry('a.conf', { mode: 0o4755, group: { id: 50, name: 'staff' } }),
    entry('link', { type: 'symlink', mode: 0o777, target: 'b.conf' }),
    entry('new', { type: 'directory', mode: 0o700 }),
    entry('same'),
    entry('x', { user: { id: 1001, name: 'www' } }),
  ]);
  const diff = diffMetadata(before, after, whole);
  assert.deepEqual(
    diff.map((d) => [d.path, d.status, d.fields]),
    [
      ['a.conf', 'changed', [{ field: 'mode', from: '0644', to: '4755' }, { field: 'group', from: 'root', to: 'staff' }]],
      ['gone', 'removed', []],
      ['link', 'changed', [{ field: 'target', from: 'a.conf', to: 'b.conf' }]],
      ['new', 'added', []],
      ['x', 'changed', [{ field: 'user', from: 'www (1000)', to: 'www (1001)' }]],
    ],
  );
  assert.deepEqual(diff.map(formatDifference), [
    'a.conf: mode 0644 → 4755, group root → staff',
    'gone: removed (was file 0644 root:root)',
    'link: target a.conf → b.conf',
    'new: added (directory 0700 root:root)',
    'x: user www (1000) → www (1001)',
  ]);
});

test('only the scope; an absent side means every entry was added or removed', () => {
  const before = meta([entry('sub', { type: 'directory' }), entry('sub/a', { mode: 0o600 }), entry('subway')]);
  const after = meta([entry('sub', { type: 'directory' }), entry('sub/a'), entry('subway', { mode: 0o600 })]);
  assert.deepEqual(diffMetadata(before, after, { entry: 'sub', whole: false }).map((d) => d.path), ['sub/a']);
  assert.deepEqual(diffMetadata(before, undefined, { entry: 'sub', whole: false }).map((d) => [d.path, d.status]), [['sub', 'removed'], ['sub/a', 'removed']]);
  assert.deepEqual(diffMetadata(before, before, whole), []);
});
