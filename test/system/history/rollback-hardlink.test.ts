// A hard link broken since REV: rolling back to REV must leave the two names apart. Before,
// both names were "unchanged" (same bytes, same mode, same owner), so the rollback exited 0
// and left them one inode, where REV has two files (found by rollback-property.test.ts).
import assert from 'node:assert/strict';
import { chmodSync, linkSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeWorld } from '../../helpers/world.js';

test('rollback to a commit where two files were apart breaks the hard link made since', async () => {
  const world = await makeWorld({ ssh: false });
  const foo = path.join(world.root, 'srv/foo');
  mkdirSync(foo, { recursive: true });
  writeFileSync(path.join(foo, 'a'), 'same\n');
  writeFileSync(path.join(foo, 'b'), 'same\n');
  const watched = await world.pacha(['watch', foo]);
  assert.equal(watched.code, 0, watched.stderr);

  const b = path.join(foo, 'b');
  rmSync(b);
  linkSync(path.join(foo, 'a'), b);
  const pushed = await world.pacha(['push']);
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.equal(lstatSync(b).nlink, 2);

  const r = await world.pacha(['rollback', foo, '--to', 'HEAD~1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /replace +b \(one file in the target with an entry the repository keeps apart\)/);
  assert.notEqual(lstatSync(path.join(foo, 'a')).ino, lstatSync(b).ino);
  assert.equal(lstatSync(b).nlink, 1);
  assert.equal(lstatSync(path.join(foo, 'a')).nlink, 1, 'a is not left linked to the old inode, now in the backups');
});

test("rolling back one name of a hard-link group leaves its link to the names outside the scope (a file's other names are not judged there)", async () => {
  const world = await makeWorld({ ssh: false });
  const foo = path.join(world.root, 'srv/foo');
  mkdirSync(foo, { recursive: true });
  const a = path.join(foo, 'a');
  const b = path.join(foo, 'b');
  writeFileSync(a, 'same\n');
  chmodSync(a, 0o644);
  linkSync(a, b);
  const watched = await world.pacha(['watch', foo]);
  assert.equal(watched.code, 0, watched.stderr);
  chmodSync(a, 0o600);
  const pushed = await world.pacha(['push']);
  assert.equal(pushed.code, 0, pushed.stderr);

  const r = await world.pacha(['rollback', a, '--to', 'HEAD~1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(lstatSync(a).ino, lstatSync(b).ino, 'a and b are still one file, as REV has them');
  assert.equal(lstatSync(a).nlink, 2);
  assert.equal(lstatSync(a).mode & 0o7777, 0o644);
});
