// Narrowing a rollback to its scope: REV's entries, the directories above, the plan's extras.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ancestorsOf, isNoop, limitPlan, scopeMetadata } from '../../../src/history/rollback-plan.js';
import type { Plan, PlanAction, PlannedEntry } from '../../../src/rebuild/plan.js';
import type { Metadata, MetadataEntry } from '../../../src/store/metadata.js';

const entry = (p: string, type: MetadataEntry['type'] = 'file'): MetadataEntry => ({ path: p, type, mode: 0o644, user: { id: 0 }, group: { id: 0 } });

test('ancestors of an entry path', () => {
  assert.deepEqual(ancestorsOf('a/b/c'), ['.', 'a', 'a/b']);
  assert.deepEqual(ancestorsOf('a'), ['.']);
  assert.deepEqual(ancestorsOf('.'), []);
});

test("REV's metadata narrowed to a scope keeps the directories above it", () => {
  const metadata: Metadata = {
    version: 1,
    location: '/opt/foo',
    host: 'bar',
    single: false,
    entries: [entry('.', 'directory'), entry('a', 'directory'), entry('a/b', 'directory'), entry('a/b/c'), entry('a/b/d'), entry('a/x'), entry('z')],
  };
  assert.deepEqual(scopeMetadata(metadata, { entry: 'a/b', whole: false }).entries.map((e) => e.path), ['.', 'a', 'a/b', 'a/b/c', 'a/b/d']);
  assert.deepEqual(scopeMetadata(metadata, { entry: 'a/b/c', whole: false }).entries.map((e) => e.path), ['.', 'a', 'a/b', 'a/b/c']);
  assert.equal(scopeMetadata(metadata, { entry: '.', whole: true }), metadata);
});

function planned(p: string, action: PlanAction, size = 0): PlannedEntry {
  return { path: p, type: p.includes('.') && p !== '.' ? 'file' : 'directory', action, mode: 0o644, uid: 0, gid: 0, size, current: { kind: 'absent' } };
}

function plan(entries: PlannedEntry[], extras: string[]): Plan {
  return {
    repository: 'foo',
    leftovers: [],
    location: '/opt/foo',
    single: false,
    targetRoot: '/opt/foo',
    hostRoot: '/opt/foo',
    rootState: 'directory',
    entries,
    ownersNotFound: [{ kind: 'user', name: 'www', id: 33, paths: ['.', 'sub/a.conf'] }],
    extras,
    refused: [],
    counts: { create: 0, replace: 0, 'update-metadata': 0, unchanged: 0, skip: 0 },
    bytes: 0,
  };
}

test('the plan keeps the directories above the scope only when they must be made; extras only in the scope', () => {
  const full = plan(
    [planned('.', 'update-metadata'), planned('sub', 'create'), planned('sub/a.conf', 'replace', 5), planned('sub/b.conf', 'unchanged', 7)],
    ['other.conf', 'sub/new.conf', 'sub/.pacha-tmp-0123'],
  );
  const limited = limitPlan(full, { entry: 'sub', whole: false });
  assert.deepEqual(limited.entries.map((e) => e.path), ['sub', 'sub/a.conf', 'sub/b.conf']);
  assert.deepEqual(limited.counts, { create: 1, replace: 1, 'update-metadata': 0, unchanged: 1, skip: 0 });
  assert.equal(limited.bytes, 12);
  assert.deepEqual(limited.extras, ['sub/new.conf']);
  assert.deepEqual(limited.ownersNotFound, [{ kind: 'user', name: 'www', id: 33, paths: ['sub/a.conf'] }]);
  const file = limitPlan(full, { entry: 'sub/a.conf', whole: false });
  assert.deepEqual(file.entries.map((e) => e.path), ['sub', 'sub/a.conf']);
  assert.deepEqual(file.extras, []);
  assert.equal(limitPlan(full, { entry: '.', whole: true }).entries.length, 4);
});

test('a plan is a no-op when nothing is placed and nothing moved aside', () => {
  assert.equal(isNoop(plan([planned('a.conf', 'unchanged'), planned('fifo', 'skip')], [])), true);
  assert.equal(isNoop(plan([planned('a.conf', 'unchanged')], ['new'])), false);
  assert.equal(isNoop(plan([planned('a.conf', 'update-metadata')], [])), false);
});
