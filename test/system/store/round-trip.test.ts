// Exact or refused (issue 9): a tree holding every awkward case goes through watch → edits →
// push → wipe → rebuild, over the local master and over a real sshd, and comes back
// identical byte for byte (names, content, modes, owners, hard links, FIFOs, devices);
// what cannot come back (a socket) is reported, and what git cannot hold (.git) is refused.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { exactSnapshot } from '../../helpers/tree.js';
import { forgeRepository } from '../../helpers/forge.js';
import { makeWorld, type World } from '../../helpers/world.js';

const bytes = (dir: string, ...parts: Array<string | number[]>): Buffer =>
  Buffer.concat([Buffer.from(`${dir}/`), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))]);

/** Every case of issue 9's item 3 in one directory. */
function makeAwkwardTree(dir: string): void {
  mkdirSync(path.join(dir, 'system'), { recursive: true });
  writeFileSync(path.join(dir, 'system', 'mnt-data\\x2dvol.mount'), '[Mount]\nWhat=/dev/vdb\n');
  writeFileSync(path.join(dir, 'system', 'dev-disk-by\\x2duuid-0a1b.swap'), '[Swap]\n');
  writeFileSync(path.join(dir, 'tab\there'), 'tab\n');
  writeFileSync(path.join(dir, 'new\nline'), 'newline\n');
  writeFileSync(path.join(dir, '"quoted" é'), 'quoted\n');
  // Not UTF-8: Latin-1 "café" and a lone 0xff, a directory too, and a symlink pointing at one.
  writeFileSync(bytes(dir, 'caf', [0xe9]), 'latin1\n');
  mkdirSync(bytes(dir, 'dir', [0xff]));
  writeFileSync(bytes(dir, 'dir', [0xff], '/inner', [0xfe]), 'inner\n');
  symlinkSync(Buffer.from([0x63, 0x61, 0x66, 0xe9]), bytes(dir, 'to-caf', [0xe9]));
  // git attributes inside the tracked path must change nothing.
  writeFileSync(path.join(dir, '.gitattributes'), '* text eol=crlf ident\n*.bin filter=nosuch\n');
  writeFileSync(path.join(dir, 'lf.conf'), 'a = 1\nb = 2\n');
  writeFileSync(path.join(dir, 'crlf.conf'), 'a = 1\r\nb = 2\r\n');
  writeFileSync(path.join(dir, 'ident.conf'), '# $Id$\n# $Id: deadbeef $\n');
  writeFileSync(path.join(dir, 'data.bin'), Buffer.from([0, 1, 2, 13, 10, 255]));
  // Hard links, one group across directories, with its shared mode.
  writeFileSync(path.join(dir, 'linked-a'), 'shared inode\n');
  chmodSync(path.join(dir, 'linked-a'), 0o640);
  linkSync(path.join(dir, 'linked-a'), path.join(dir, 'linked-b'));
  linkSync(path.join(dir, 'linked-a'), path.join(dir, 'system', 'linked-c'));
  // Special files.
  execFileSync('mkfifo', ['-m', '0620', path.join(dir, 'control.fifo')]);
  execFileSync('mknod', ['-m', '0604', path.join(dir, 'null'), 'c', '1', '3']);
}

/** A unix socket file left behind by a process that died listening on it. */
function makeSocket(file: string): void {
  spawnSync(process.execPath, ['-e', "require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))", file]);
  assert.ok(lstatSync(file).isSocket());
}

function withoutSocket(snap: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const { 'app.sock': _socket, ...rest } = snap;
  return rest;
}

for (const ssh of [false, true]) {
  describe(`round trip through ${ssh ? 'a real sshd' : 'the local master'}`, () => {
    let world: World;
    let foo: string;
    let expected: Record<string, Record<string, unknown>>;

    test('watch records every awkward entry and reports the socket it cannot restore', async () => {
      world = await makeWorld({ ssh });
      foo = path.join(world.root, 'etc/foo');
      mkdirSync(foo, { recursive: true });
      makeAwkwardTree(foo);
      makeSocket(path.join(foo, 'app.sock'));
      const r = await world.pacha(['watch', foo]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /not restored by a rebuild.*app\.sock/);
      // The master's copy holds the bytes as they are, names and all.
      const masterCopy = path.join(world.masterDir, 'bar/foo');
      assert.equal(readFileSync(path.join(masterCopy, 'lf.conf'), 'utf8'), 'a = 1\nb = 2\n');
      assert.ok(existsSync(bytes(masterCopy, 'caf', [0xe9])));
    });

    test('edits to awkward names, a hard link and the FIFO are committed by one push', async () => {
      writeFileSync(bytes(foo, 'caf', [0xe9]), 'latin1 edited\n');
      writeFileSync(path.join(foo, 'system', 'mnt-data\\x2dvol.mount'), '[Mount]\nWhat=/dev/vdc\n');
      writeFileSync(path.join(foo, 'linked-b'), 'shared inode, edited through b\n'); // same inode: a, b, c change
      chmodSync(path.join(foo, 'control.fifo'), 0o600);
      const r = await world.pacha(['push']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /mnt-data\\x2dvol\.mount/);
      assert.match(r.stdout, /control\.fifo/);
      expected = withoutSocket(exactSnapshot(foo));
      assert.equal(expected['linked-a']?.linkGroup, 'linked-a');
      assert.equal(expected['system/linked-c']?.linkGroup, 'linked-a');
    });

    test('the host dies; rebuild brings every entry back exactly, and a second plan has nothing to do', async () => {
      rmSync(foo, { recursive: true, force: true });
      rmSync(world.stateDir, { recursive: true, force: true });
      const r = await world.pacha(['rebuild', 'bar', '--yes']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /Skipped \(not restorable: sockets\) in foo: app\.sock/);
      const got = exactSnapshot(foo);
      assert.equal(got['app.sock'], undefined);
      assert.deepEqual(got, expected);
      assert.equal(readFileSync(path.join(foo, 'ident.conf'), 'utf8'), '# $Id$\n# $Id: deadbeef $\n');
      assert.equal(readFileSync(path.join(foo, 'crlf.conf'), 'utf8'), 'a = 1\r\nb = 2\r\n');
      const again = await world.pacha(['rebuild', 'bar', '--dry-run']);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /foo → .*: 0 to create, 0 to replace, 0 mode\/owner to fix/);
    });

    test('a nested git repository is refused at watch, naming it; nothing is recorded', async () => {
      const nested = path.join(world.root, 'opt/app');
      mkdirSync(path.join(nested, 'vendor/lib'), { recursive: true });
      writeFileSync(path.join(nested, 'app.conf'), 'x\n');
      execFileSync('git', ['init', '-q', path.join(nested, 'vendor/lib')]);
      const r = await world.pacha(['watch', nested]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /vendor\/lib\/\.git: a git directory or repository/);
      assert.match(r.stderr, /--ignore/);
      const status = await world.pacha(['status', '--json']);
      assert.deepEqual((JSON.parse(status.stdout) as { paths: Array<{ location: string }> }).paths.map((p) => p.location), [foo]);
      assert.equal(existsSync(path.join(world.masterDir, 'bar/app')), false);
    });
  });
}

describe('.pacha is pacha\'s own', () => {
  test('a tracked directory holding its own top-level .pacha is refused at watch, naming it', async () => {
    const world = await makeWorld({ ssh: false });
    const dir = path.join(world.root, 'opt/own');
    mkdirSync(path.join(dir, '.pacha'), { recursive: true });
    writeFileSync(path.join(dir, '.pacha/metadata.json'), '{}');
    const r = await world.pacha(['watch', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /opt\/own\/\.pacha: pacha keeps its metadata under \.pacha/);
  });

  test('a repository whose .pacha is a symlink is never read through it: the rebuild refuses, nothing placed', async () => {
    const world = await makeWorld({ ssh: false });
    const decoy = path.join(world.dir, 'decoy');
    mkdirSync(decoy);
    const target = path.join(world.root, 'opt/evil');
    writeFileSync(path.join(decoy, 'metadata.json'), JSON.stringify({ version: 2, location: target, host: 'evil', single: false, entries: [{ path: '.', type: 'directory', mode: 0o755, user: { id: 0 }, group: { id: 0 } }, { path: 'x', type: 'file', mode: 0o644, user: { id: 0 }, group: { id: 0 } }] }));
    forgeRepository(path.join(world.masterDir, 'evil/evil'), { x: 'x\n' }, (repo) => symlinkSync(decoy, path.join(repo, '.pacha')));
    const r = await world.pacha(['rebuild', 'evil', '--yes']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /no readable \.pacha\/metadata\.json/);
    assert.equal(existsSync(target), false);
  });
});
