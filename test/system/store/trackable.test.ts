// The state dir is never tracked (issue 9, item 2): /, kernel filesystems, the state dir,
// anything inside it and any parent of it are refused with a clear error (exit 2), never
// "unexpected error (a bug)", and nothing is recorded.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { trackableProblem } from '../../../src/store/trackable.js';
import { forgeRepository } from '../../helpers/forge.js';
import { makeWorld } from '../../helpers/world.js';

describe('trackableProblem', () => {
  test('refuses /, kernel and runtime filesystems, the state dir, inside it and its parents', () => {
    const state = '/var/lib/pacha';
    for (const location of ['/', '/proc', '/proc/sys/kernel', '/sys', '/dev', '/dev/shm', '/run', '/run/foo', state, `${state}/repos`, '/var/lib', '/var']) {
      assert.ok(trackableProblem(location, state), location);
    }
    for (const location of ['/etc', '/opt/foo', '/var/lib/pachamama', '/srv', '/procfs', '/running']) {
      assert.equal(trackableProblem(location, state), undefined, location);
    }
    assert.match(trackableProblem('/var/lib', state)!, /contains pacha's state dir \/var\/lib\/pacha/);
  });
});

describe('pacha watch refuses them, clearly, recording nothing', () => {
  test('/, /proc, a parent of the state dir, the state dir through a symlink: exit 2, named', async () => {
    const world = await makeWorld({ ssh: false });
    mkdirSync(world.stateDir, { recursive: true });
    const viaLink = path.join(world.root, 'state-link');
    symlinkSync(world.stateDir, viaLink);
    const cases: Array<[string, RegExp]> = [
      ['/', /refusing to track \/: it is the whole filesystem/],
      ['/proc', /refusing to track \/proc: it is on \/proc, a kernel or runtime filesystem/],
      ['/sys/kernel', /on \/sys/],
      [world.dir, /contains pacha's state dir/],
      [path.join(world.stateDir, 'repos'), /inside pacha's state dir/],
      [viaLink, /\(.*\/state\): it lies inside pacha's state dir/],
    ];
    for (const [location, message] of cases) {
      const r = await world.pacha(['watch', location]);
      assert.equal(r.code, 2, `${location}: ${r.stderr}`);
      assert.match(r.stderr, message, location);
      assert.doesNotMatch(r.stderr, /a bug/);
    }
    const status = await world.pacha(['status', '--json']);
    assert.deepEqual((JSON.parse(status.stdout) as { paths: unknown[] }).paths, []);
  });

  test('a registry from before these checks that tracks a parent of the state dir: push refuses it by name, commits nothing', async () => {
    const world = await makeWorld({ ssh: false });
    mkdirSync(path.join(world.stateDir, 'repos'), { recursive: true });
    writeFileSync(path.join(world.stateDir, 'tracked.json'), JSON.stringify({ version: 1, paths: [{ location: world.dir, name: 'all', single: false }] }));
    const r = await world.pacha(['push']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /cannot be tracked: it contains pacha's state dir/);
    assert.match(r.stderr, /pacha unwatch/);
  });
});

test('a repository on the master whose location contains this host\'s state dir is refused by rebuild; nothing touched', async () => {
  const world = await makeWorld({ ssh: false });
  const root = { user: { id: 0 }, group: { id: 0 } };
  const entries = [{ path: '.', type: 'directory', mode: 0o755, ...root }, { path: 'planted', type: 'file', mode: 0o644, size: 2, ...root }];
  forgeRepository(path.join(world.masterDir, 'evil/all'), {
    '.pacha/metadata.json': JSON.stringify({ version: 2, location: world.dir, host: 'evil', single: false, entries }),
    planted: 'x\n',
  });
  const r = await world.pacha(['rebuild', 'evil', '--yes']);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /cannot be placed: it contains pacha's state dir/);
  assert.equal(existsSync(path.join(world.dir, 'planted')), false);
});
