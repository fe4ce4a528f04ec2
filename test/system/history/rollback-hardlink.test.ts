// A hard link broken since REV: rolling back to REV must leave the two names apart. Before,
// both names were "unchanged" (same bytes, same mode, same owner), so the rollback exited 0
// and left them one inode, where REV has two files (found by rollback-property.test.ts).
import assert from 'node:assert/strict';
import { linkSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
  assert.match(r.stdout, /replace +b \(hard link to a in the target\)/);
  assert.notEqual(lstatSync(path.join(foo, 'a')).ino, lstatSync(b).ino);
  assert.equal(lstatSync(b).nlink, 1);
});
