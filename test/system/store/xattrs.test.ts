// Extended metadata (issue 9, item 4): POSIX ACLs, a file capability, user.* attributes on
// files and directories go through watch → push → wipe → rebuild over a real sshd and come
// back identical by getfacl, getcap and getfattr; a new file under a default ACL does not
// keep an ACL it did not have.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseGetfattr, quoteDumpPath, readXattrs, restoreXattrs, writeXattr } from '../../../src/store/xattrs.js';
import { tempDir } from '../../helpers/tmp.js';
import { exactSnapshot } from '../../helpers/tree.js';
import { makeWorld, type World } from '../../helpers/world.js';

describe('parseGetfattr', () => {
  test('paths unquoted byte for byte (\\ooo escapes, raw non-UTF-8), values kept as base64', () => {
    const out = Buffer.concat([
      Buffer.from('# file: /t/new\\012line\n'),
      Buffer.from('user.k=0seA==\nuser.empty=0s\n\n# file: /t/back\\134slash\n'),
      Buffer.from('security.capability=0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=\n\n# file: /t/n'),
      Buffer.from([0xff]),
      Buffer.from('x\nsystem.posix_acl_access=0sAgAAAA==\n'),
    ]);
    const parsed = parseGetfattr(out);
    assert.deepEqual([...parsed.keys()], ['/t/new\nline', '/t/back\\slash', '/t/n\udcffx']);
    assert.deepEqual(parsed.get('/t/new\nline'), { 'user.k': 'eA==', 'user.empty': '' });
    assert.equal(parsed.get('/t/back\\slash')?.['security.capability'], 'AQAAAgAgAAAAAAAAAAAAAAAAAAA=');
  });
});

describe('restoreXattrs', () => {
  test('one setfattr --restore sets every file its attributes, whatever the names; a file it cannot change is reported, the others still set', async () => {
    const dir = tempDir();
    const names = ['plain', 'with space', 'new\nline', 'back\\slash', 'été', 'tab\tand=equals'];
    for (const name of names) writeFileSync(path.join(dir, name), name);
    const items = names.map((name, i) => ({ file: path.join(dir, name), xattrs: { 'user.n': Buffer.from(`v${i}`).toString('base64'), 'user.empty': '' } }));
    assert.equal(await restoreXattrs(items), undefined);
    const read = await readXattrs(dir, true);
    for (const [i, name] of names.entries()) assert.deepEqual(read?.get(path.join(dir, name)), { 'user.n': Buffer.from(`v${i}`).toString('base64'), 'user.empty': '' }, name);
    // A symlink takes no user.* attribute and is not followed: setfattr says so, the file after it is still set.
    symlinkSync('plain', path.join(dir, 'link'));
    writeFileSync(path.join(dir, 'after'), 'after');
    const why = await restoreXattrs([
      { file: path.join(dir, 'link'), xattrs: { 'user.x': 'eA==' } },
      { file: path.join(dir, 'after'), xattrs: { 'user.x': 'eA==' } },
    ]);
    assert.match(why ?? '', /link: Operation not permitted/);
    assert.equal((await readXattrs(path.join(dir, 'after'), false))?.get(path.join(dir, 'after'))?.['user.x'], 'eA==');
    assert.equal((await readXattrs(path.join(dir, 'plain'), false))?.get(path.join(dir, 'plain'))?.['user.x'], undefined, 'not through the symlink');
  });

  test('an empty value is set, as the only attribute of a file, by restoreXattrs and by writeXattr (setfattr took "0s" as no value)', async () => {
    const dir = tempDir();
    const [batch, single] = [path.join(dir, 'batch'), path.join(dir, 'single')];
    writeFileSync(batch, '');
    writeFileSync(single, '');
    assert.equal(await restoreXattrs([{ file: batch, xattrs: { 'user.empty': '' } }]), undefined);
    assert.equal(await writeXattr(single, 'user.empty', ''), undefined);
    assert.deepEqual((await readXattrs(batch, false))?.get(batch), { 'user.empty': '' });
    assert.deepEqual((await readXattrs(single, false))?.get(single), { 'user.empty': '' });
  });

  test('quoteDumpPath is what getfattr writes: backslash and bytes outside printable ASCII as \\ooo', () => {
    assert.equal(quoteDumpPath('/a b/c=d'), '/a b/c=d');
    assert.equal(quoteDumpPath('n\nl\\é'), 'n\\012l\\134\\303\\251');
  });
});

const sh = (cmd: string, args: string[], cwd?: string): string => execFileSync(cmd, args, { cwd, encoding: 'utf8' });

/** Blocks of a tool's recursive output in path order (readdir order differs between two trees). */
const sortedBlocks = (text: string, separator: string): string[] => text.split(separator).map((b) => b.trim()).filter(Boolean).sort();

/** Everything getfacl, getcap and getfattr say about a tree, with paths relative to it. */
function extended(dir: string): { acl: string[]; caps: string[]; xattrs: string[] } {
  return {
    acl: sortedBlocks(sh('getfacl', ['-R', '-P', '-n', '.'], dir), '\n\n'),
    caps: sortedBlocks(sh('getcap', ['-r', '.'], dir), '\n'),
    xattrs: sortedBlocks(sh('getfattr', ['-R', '-h', '-P', '-d', '-m', '-', '-e', 'hex', '.'], dir), '\n\n'),
  };
}

describe('extended metadata round trip through a real sshd', () => {
  let world: World;
  let foo: string;
  let expected: ReturnType<typeof extended>;
  let expectedSnapshot: ReturnType<typeof exactSnapshot>;

  test('watch records ACLs, a capability and user attributes; an attribute change alone is a commit', async () => {
    world = await makeWorld({ ssh: true });
    foo = path.join(world.root, 'opt/ext');
    mkdirSync(path.join(foo, 'shared'), { recursive: true });
    writeFileSync(path.join(foo, 'acl.conf'), 'acl\n');
    sh('setfacl', ['-m', 'u:nobody:r,g:nogroup:rw', path.join(foo, 'acl.conf')]);
    sh('setfacl', ['-d', '-m', 'u:nobody:rx', path.join(foo, 'shared')]);
    writeFileSync(path.join(foo, 'shared/inherited.conf'), 'inherits the default ACL\n');
    writeFileSync(path.join(foo, 'shared/plain.conf'), 'ACL removed after creation\n');
    sh('setfacl', ['-b', path.join(foo, 'shared/plain.conf')]);
    copyFileSync('/bin/true', path.join(foo, 'ping-like'));
    sh('setcap', ['cap_net_raw+ep', path.join(foo, 'ping-like')]);
    writeFileSync(path.join(foo, 'tagged.conf'), 'tagged\n');
    sh('setfattr', ['-n', 'user.origin', '-v', 'from-bar', path.join(foo, 'tagged.conf')]);
    sh('setfattr', ['-n', 'user.dir', '-v', '0x00ff10', path.join(foo, 'shared')]);
    const r = await world.pacha(['watch', foo]);
    assert.equal(r.code, 0, r.stderr);
    sh('setfattr', ['-n', 'user.origin', '-v', 'changed', path.join(foo, 'tagged.conf')]);
    const push = await world.pacha(['push']);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /tagged\.conf/);
    expected = extended(foo);
    expectedSnapshot = exactSnapshot(foo);
    assert.match(expected.acl.join('\n'), /user:65534:r--/);
    assert.match(expected.caps.join('\n'), /ping-like cap_net_raw=ep/);
    assert.match(expected.xattrs.join('\n'), /user\.origin=0x6368616e676564/);
  });

  test('rebuild restores them exactly; a second plan has nothing to do', async () => {
    rmSync(foo, { recursive: true, force: true });
    rmSync(world.stateDir, { recursive: true, force: true });
    const r = await world.pacha(['rebuild', 'bar', '--yes']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.deepEqual(extended(foo), expected);
    assert.deepEqual(exactSnapshot(foo), expectedSnapshot);
    const again = await world.pacha(['rebuild', 'bar', '--dry-run']);
    assert.match(again.stdout, /ext → .*: 0 to create, 0 to replace, 0 mode\/owner to fix/);
  });

  test('attributes changed on the rebuilt host are put back by a rebuild, extra ones removed', async () => {
    sh('setfacl', ['-b', path.join(foo, 'acl.conf')]);
    sh('setfattr', ['-n', 'user.extra', '-v', 'x', path.join(foo, 'tagged.conf')]);
    sh('setcap', ['-r', path.join(foo, 'ping-like')]);
    const plan = await world.pacha(['rebuild', 'bar', '--dry-run']);
    assert.match(plan.stdout, /update-metadata +acl\.conf \(.*extended attributes differ\)/);
    const r = await world.pacha(['rebuild', 'bar', '--yes']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.deepEqual(extended(foo), expected);
  });
});
