import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StagedFile, TargetFacts, TargetInspection } from '../../../src/rebuild/inspect.js';
import { planRepository, targetRootOf, type PlanInput } from '../../../src/rebuild/plan.js';
import { resolveOwners } from '../../../src/rebuild/owners.js';
import { parseAccounts } from '../../../src/accounts.js';
import type { EntryType, Metadata, MetadataEntry } from '../../../src/store/metadata.js';

const accounts = { users: parseAccounts('root:x:0:0::/:\nweb:x:1500:1600::/:\n'), groups: parseAccounts('root:x:0:\nwebgrp:x:1700:\n') };
const rootOwner = { user: { name: 'root', id: 0 }, group: { name: 'root', id: 0 } };
const entries: MetadataEntry[] = [
  { path: '.', type: 'directory', mode: 0o755, ...rootOwner },
  { path: 'conf', type: 'file', mode: 0o600, user: { name: 'web', id: 33 }, group: { name: 'webgrp', id: 34 }, size: 5 },
  { path: 'fifo', type: 'other', mode: 0o644, ...rootOwner },
  { path: 'link', type: 'symlink', mode: 0o777, target: 'conf', ...rootOwner },
  { path: 'tmp', type: 'directory', mode: 0o1777, user: { name: 'ghost', id: 4242 }, group: { name: 'root', id: 0 } },
];
const metadata: Metadata = { version: 1, location: '/opt/foo', host: 'bar', single: false, entries };
const staged = new Map<string, StagedFile>([['conf', { source: '/stage/foo/tree/conf', size: 5 }]]);

type Present = Extract<TargetFacts, { kind: 'present' }>;
const present = (type: EntryType, more: Partial<Present> = {}): TargetFacts => ({
  kind: 'present', type, mode: 0o755, uid: 0, gid: 0, size: 0, dev: 1, ino: 1, nlink: 1, rdev: 0, mtimeMs: 0, ...more,
});

function input(facts: Record<string, TargetFacts>, target: Partial<TargetInspection> = {}): PlanInput {
  return {
    repository: 'foo',
    metadata,
    root: '/',
    staged,
    target: { root: 'directory', facts: new Map(Object.entries(facts)), extras: [], ...target },
    owners: resolveOwners(entries, accounts),
  };
}

/** The target exactly as a placement of this metadata leaves it. */
const placed: Record<string, TargetFacts> = {
  '.': present('directory'),
  conf: present('file', { mode: 0o600, uid: 1500, gid: 1700, size: 5, sameContent: true }),
  fifo: { kind: 'absent' },
  link: present('symlink', { mode: 0o777, linkTarget: 'conf' }),
  tmp: present('directory', { mode: 0o1777, uid: 4242, gid: 0 }),
};

const actions = (plan: ReturnType<typeof planRepository>) => Object.fromEntries(plan.entries.map((e) => [e.path, e.action]));

describe('planRepository', () => {
  it('an empty target: everything is created, special files skipped, owners by name', () => {
    const plan = planRepository(input({}, { root: 'absent' }));
    assert.deepEqual(actions(plan), { '.': 'create', conf: 'create', fifo: 'skip', link: 'create', tmp: 'create' });
    const conf = plan.entries.find((e) => e.path === 'conf');
    assert.deepEqual([conf?.uid, conf?.gid, conf?.mode, conf?.source], [1500, 1700, 0o600, '/stage/foo/tree/conf']);
    assert.equal(plan.entries.find((e) => e.path === 'link')?.linkTarget, 'conf');
    assert.deepEqual(plan.ownersNotFound, [{ kind: 'user', name: 'ghost', id: 4242, paths: ['tmp'] }]);
    assert.deepEqual(plan.counts, { create: 4, replace: 0, 'update-metadata': 0, unchanged: 0, skip: 1 });
    assert.equal(plan.bytes, 5);
    assert.deepEqual(plan.refused, []);
  });

  it('a placed target: everything unchanged (a symlink\'s own mode is not compared)', () => {
    const plan = planRepository(input({ ...placed, link: present('symlink', { mode: 0o755, linkTarget: 'conf' }) }));
    assert.deepEqual(actions(plan), { '.': 'unchanged', conf: 'unchanged', fifo: 'skip', link: 'unchanged', tmp: 'unchanged' });
  });

  it('content or type differences replace; mode or owner differences only update metadata', () => {
    const plan = planRepository(
      input({
        ...placed,
        conf: present('file', { mode: 0o600, uid: 1500, gid: 1700, size: 5, sameContent: false }),
        link: present('symlink', { linkTarget: 'other' }),
        tmp: present('directory', { mode: 0o755, uid: 4242, gid: 0 }),
        '.': present('directory', { uid: 1500 }),
      }),
    );
    assert.deepEqual(actions(plan), { '.': 'update-metadata', conf: 'replace', fifo: 'skip', link: 'replace', tmp: 'update-metadata' });
    assert.equal(plan.entries.find((e) => e.path === 'tmp')?.reason, 'mode 0755 → 01777');
    assert.equal(plan.entries.find((e) => e.path === '.')?.reason, 'owner 1500:0 → 0:0');
  });

  it('a file of another size is replaced without comparing bytes; a directory where a file goes is replaced', () => {
    let plan = planRepository(input({ ...placed, conf: present('file', { mode: 0o600, uid: 1500, gid: 1700, size: 6 }) }));
    assert.equal(actions(plan).conf, 'replace');
    plan = planRepository(input({ ...placed, conf: present('directory') }));
    assert.equal(actions(plan).conf, 'replace');
    assert.equal(plan.entries.find((e) => e.path === 'conf')?.reason, 'directory in the target');
  });

  it('uid and gid are compared separately', () => {
    const plan = planRepository(input({ ...placed, conf: present('file', { mode: 0o600, uid: 1700, gid: 1500, size: 5, sameContent: true }) }));
    assert.equal(actions(plan).conf, 'update-metadata');
  });

  it('refuses entries beneath a symlinked directory and a symlink where a directory goes', () => {
    const plan = planRepository(input({ ...placed, conf: { kind: 'blocked', symlink: 'sub' }, tmp: present('symlink', { linkTarget: '/etc' }) }));
    assert.deepEqual(plan.refused.map((r) => r.path), ['conf', 'tmp']);
    assert.match(plan.refused[0]?.reason ?? '', /"sub" in the target is a symlink/);
  });

  it('refuses a target root that is a symlink or a file', () => {
    for (const root of ['symlink', 'file'] as const) {
      const plan = planRepository(input({}, { root }));
      assert.equal(plan.refused[0]?.path, '.');
      assert.match(plan.refused[0]?.reason ?? '', new RegExp(`is a ${root}`));
    }
  });

  it('a file whose inode has a name the repository does not link it to is replaced; its link group is made again', () => {
    const conf = present('file', { mode: 0o600, uid: 1500, gid: 1700, size: 5, sameContent: true, ino: 7 }) as Present;
    // Linked to an extra or to a file outside the tracked path: unchanged would leave them one
    // inode, and fixing its mode would chmod the other name too.
    const linked = planRepository(input({ ...placed, conf: { ...conf, nlink: 2 } }));
    assert.equal(actions(linked).conf, 'replace');
    assert.equal(linked.entries.find((e) => e.path === 'conf')?.reason, 'hard-linked to a name the repository does not link it to');
    const chmodded = planRepository(input({ ...placed, conf: { ...conf, mode: 0o644, nlink: 2 } }));
    assert.equal(actions(chmodded).conf, 'replace');
    // A link group: its members already that inode account for its names; a missing one does not matter.
    const group: MetadataEntry[] = [...entries, { path: 'conf2', type: 'file', mode: 0o600, user: { name: 'web', id: 33 }, group: { name: 'webgrp', id: 34 }, hardlink: 'conf' }, { path: 'conf3', type: 'file', mode: 0o600, user: { name: 'web', id: 33 }, group: { name: 'webgrp', id: 34 }, hardlink: 'conf' }];
    const withGroup = (facts: Record<string, TargetFacts>) => planRepository({ ...input(facts), metadata: { ...metadata, entries: group }, owners: resolveOwners(group, accounts) });
    const twoOfThree = withGroup({ ...placed, conf: { ...conf, nlink: 2 }, conf2: { ...conf, nlink: 2 } });
    assert.deepEqual([actions(twoOfThree).conf, actions(twoOfThree).conf2, actions(twoOfThree).conf3], ['unchanged', 'unchanged', 'create']);
    const plusStranger = withGroup({ ...placed, conf: { ...conf, nlink: 3 }, conf2: { ...conf, nlink: 3 } });
    assert.deepEqual([actions(plusStranger).conf, actions(plusStranger).conf2, actions(plusStranger).conf3], ['replace', 'replace', 'create']);
  });

  it('passes extras through untouched', () => {
    assert.deepEqual(planRepository(input(placed, { extras: ['cache', 'old.conf'] })).extras, ['cache', 'old.conf']);
  });

  it('target root: root + location, or the file\'s directory for a single file', () => {
    assert.equal(targetRootOf(metadata, '/'), '/opt/foo');
    assert.equal(targetRootOf(metadata, '/mnt/image'), '/mnt/image/opt/foo');
    assert.equal(targetRootOf({ ...metadata, location: '/etc/app.conf', single: true }, '/mnt/image'), '/mnt/image/etc');
  });
  it('two files apart in the repository but one inode in the target: both are replaced (with the link group of the first)', () => {
    const file = (p: string, more: Partial<MetadataEntry> = {}): MetadataEntry => ({ path: p, type: 'file', mode: 0o644, ...rootOwner, size: 5, ...more });
    const apart: Metadata = { ...metadata, entries: [{ path: '.', type: 'directory', mode: 0o755, ...rootOwner }, file('a'), file('b'), file('c', { hardlink: 'a' })] };
    const same = present('file', { mode: 0o644, size: 5, sameContent: true, dev: 7, ino: 70, nlink: 3 });
    const plan = planRepository({
      ...input({ '.': present('directory'), a: same, b: same, c: same }),
      metadata: apart,
      staged: new Map(['a', 'b'].map((p) => [p, { source: `/stage/${p}`, size: 5 }])),
      owners: resolveOwners(apart.entries, accounts),
    });
    // Both: the one kept would stay linked to the other's old inode, moved to the backups.
    assert.deepEqual(actions(plan), { '.': 'unchanged', a: 'replace', b: 'replace', c: 'replace' });
    assert.equal(plan.entries.find((e) => e.path === 'b')?.reason, 'one file in the target with an entry the repository keeps apart');
  });
});
