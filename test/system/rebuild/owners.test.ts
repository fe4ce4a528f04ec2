import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAccounts } from '../../../src/accounts.js';
import { getentId, loadTargetAccounts, recordedNames, resolveOwners } from '../../../src/rebuild/owners.js';
import type { MetadataEntry } from '../../../src/store/metadata.js';
import { tempDir } from '../../helpers/tmp.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nweb:x:1500:1600::/srv:/usr/sbin/nologin\n';
const GROUP = 'root:x:0:\nwebgrp:x:1700:\nweb:x:1600:\n';
const accounts = { users: parseAccounts(PASSWD), groups: parseAccounts(GROUP) };

function entry(path: string, user: MetadataEntry['user'], group: MetadataEntry['group']): MetadataEntry {
  return { path, type: 'file', mode: 0o644, user, group };
}

describe('resolveOwners', () => {
  it('maps names to the target ids, keeping uid and gid apart', () => {
    // Recorded ids from the dead host differ from this host's: the names win.
    const { owners, notFound } = resolveOwners([entry('a', { name: 'web', id: 33 }, { name: 'webgrp', id: 44 })], accounts);
    assert.deepEqual(owners.get('a'), { uid: 1500, gid: 1700 });
    assert.deepEqual(notFound, []);
  });

  it('a user whose name equals a group name still gets the uid, not the gid', () => {
    const { owners } = resolveOwners([entry('a', { name: 'web', id: 1 }, { name: 'root', id: 0 })], accounts);
    assert.deepEqual(owners.get('a'), { uid: 1500, gid: 0 });
  });

  it('falls back to the recorded id and reports names unknown on the target', () => {
    const entries = [
      entry('a', { name: 'ghost', id: 4242 }, { name: 'phantoms', id: 4343 }),
      entry('b', { name: 'ghost', id: 4242 }, { name: 'web', id: 9 }),
    ];
    const { owners, notFound } = resolveOwners(entries, accounts);
    assert.deepEqual(owners.get('a'), { uid: 4242, gid: 4343 });
    assert.deepEqual(owners.get('b'), { uid: 4242, gid: 1600 });
    assert.deepEqual(notFound, [
      { kind: 'user', name: 'ghost', id: 4242, paths: ['a', 'b'] },
      { kind: 'group', name: 'phantoms', id: 4343, paths: ['a'] },
    ]);
  });

  it('an owner recorded without a name keeps its number and is not reported', () => {
    const { owners, notFound } = resolveOwners([entry('a', { id: 777 }, { id: 778 })], accounts);
    assert.deepEqual(owners.get('a'), { uid: 777, gid: 778 });
    assert.deepEqual(notFound, []);
  });

  it('recordedNames lists each name once', () => {
    const names = recordedNames([entry('a', { name: 'web', id: 1 }, { name: 'g', id: 2 }), entry('b', { name: 'web', id: 1 }, { id: 3 })]);
    assert.deepEqual([...names.users], ['web']);
    assert.deepEqual([...names.groups], ['g']);
  });
});

describe('loadTargetAccounts', () => {
  it('under --root reads that tree\'s etc/passwd and etc/group only', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'etc'));
    writeFileSync(path.join(root, 'etc/passwd'), PASSWD);
    writeFileSync(path.join(root, 'etc/group'), GROUP);
    // 'daemon' exists on this host (uid 1) but not in the image: it must not be found.
    const loaded = await loadTargetAccounts(root, { users: ['web', 'daemon'], groups: ['webgrp', 'daemon'] });
    assert.equal(loaded.users.byName.get('web'), 1500);
    assert.equal(loaded.groups.byName.get('webgrp'), 1700);
    assert.equal(loaded.users.byName.get('daemon'), undefined);
    assert.equal(loaded.groups.byName.get('daemon'), undefined);
  });

  it("on '/' reads this host's accounts and asks getent for the rest", async () => {
    const loaded = await loadTargetAccounts('/', { users: ['root', 'pacha-no-such-user-x'], groups: ['root', 'pacha-no-such-group-x'] });
    assert.equal(loaded.users.byName.get('root'), 0);
    assert.equal(loaded.groups.byName.get('root'), 0);
    assert.equal(loaded.users.byName.has('pacha-no-such-user-x'), false);
    assert.equal(loaded.groups.byName.has('pacha-no-such-group-x'), false);
  });

  it('getent answers for NSS names (here from files) and not for unknown ones', async () => {
    assert.equal(await getentId('passwd', 'root'), 0);
    assert.equal(await getentId('group', 'root'), 0);
    assert.equal(await getentId('passwd', 'daemon'), 1);
    assert.equal(await getentId('passwd', 'pacha-no-such-user-x'), undefined);
    assert.equal(await getentId('passwd', '--help'), undefined); // a name is never read as an option
  });
});
