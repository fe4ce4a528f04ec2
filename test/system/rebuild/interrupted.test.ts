// A rebuild killed mid-way leaves nothing behind: the next run removes the killed run's
// stage and the `.pacha-tmp-*` files it left in the target, and says so; the target ends
// exact. And a path too deep to place is refused while planning, before anything is touched.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { CLI } from '../../helpers/cli.js';
import { snapshot } from '../../helpers/tree.js';
import { makeWorld, type World } from '../../helpers/world.js';

let world: World;
let source: string;
let expected: ReturnType<typeof snapshot>;

before(async () => {
  world = await makeWorld({ ssh: false });
  source = path.join(world.root, 'opt/app');
  for (let d = 0; d < 10; d++) {
    mkdirSync(path.join(source, `d${d}`), { recursive: true });
    for (let f = 0; f < 20; f++) writeFileSync(path.join(source, `d${d}`, `f${f}.conf`), randomBytes(2048));
  }
  for (let b = 0; b < 1; b++) writeFileSync(path.join(source, `big${b}.bin`), randomBytes(2 * 1024 * 1024));
  const r = await world.pacha(['watch', source]);
  assert.equal(r.code, 0, r.stderr);
  expected = snapshot(source);
});

/** An image root with this system's accounts, so owners resolve by name (exit 0, not 4). */
function makeImage(name: string): string {
  const image = path.join(world.dir, name);
  mkdirSync(path.join(image, 'etc'), { recursive: true });
  for (const file of ['passwd', 'group']) copyFileSync(`/etc/${file}`, path.join(image, 'etc', file));
  return image;
}

/** Every `.pacha-tmp-*` under dir. */
function temps(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => path.basename(p).startsWith('.pacha-tmp-'));
}

function rebuildArgs(image: string, state: string): string[] {
  return [CLI, '-c', world.config, '--root', image, '--state', state, 'rebuild', 'bar', '--yes'];
}

test('a rebuild SIGKILLed at 10 random points, then run again: the target is exact, no temporary file, no stage', async () => {
  const image = makeImage('image');
  const state = path.join(world.dir, 'image-state');
  // One full run, timed, so the kills land anywhere in it.
  const t0 = Date.now();
  const full = await world.pacha(['--root', image, '--state', state, 'rebuild', 'bar', '--yes']);
  assert.equal(full.code, 0, full.stderr);
  const duration = Date.now() - t0;
  const target = path.join(image, source);
  let cleanedSomething = 0;
  for (let run = 0; run < 10; run++) {
    // A fresh target half the time (kills during creation), else over the previous one (replacement).
    if (run % 2 === 0) rmSync(path.join(image, 'tmp'), { recursive: true, force: true });
    else writeFileSync(path.join(target, 'd3/f7.conf'), 'changed since\n');
    const child = spawn(process.execPath, rebuildArgs(image, state), { stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' } });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise((r) => setTimeout(r, 300 + Math.random() * duration));
    child.kill('SIGKILL');
    await exited;
    const again = await world.pacha(['--root', image, '--state', state, 'rebuild', 'bar', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    if (/Cleaned up after an interrupted run/.test(again.stdout)) cleanedSomething++;
    assert.deepEqual(snapshot(target), expected, `run ${run}: the target is exact`);
    assert.deepEqual(temps(image), [], `run ${run}: no temporary file`);
    assert.deepEqual(readdirSync(path.join(state, 'stage')), [], `run ${run}: no stage left`);
  }
  assert.ok(cleanedSomething > 0, 'at least one kill left something that the next run cleaned and reported');
});

test('what an interrupted run left is removed and reported (human and --json)', async () => {
  const image = makeImage('image2');
  const state = path.join(world.dir, 'image2-state');
  assert.equal((await world.pacha(['--root', image, '--state', state, 'rebuild', 'bar', '--yes'])).code, 0);
  const target = path.join(image, source);
  writeFileSync(path.join(target, 'd2', '.pacha-tmp-0123456789abcdef'), 'half a file');
  // A stage of a process that is gone (no such PID), and one of a name pacha never makes.
  const stale = path.join(state, 'stage', '2026-01-01T00-00-00-000Z-2147483646-1234-0badc0de');
  mkdirSync(path.join(stale, 'app.git'), { recursive: true });
  const r = await world.pacha(['--json', '--root', image, '--state', state, 'rebuild', 'bar', '--yes']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Cleaned up after an interrupted run in .*opt\/app: d2\/\.pacha-tmp-0123456789abcdef/);
  assert.match(r.stderr, /Cleaned up after an interrupted run: 1 stage removed/);
  const report = JSON.parse(r.stdout);
  const json = report.report ?? report;
  assert.deepEqual(json.staleStages, [stale]);
  assert.deepEqual(json.repositories[0].cleaned, ['d2/.pacha-tmp-0123456789abcdef']);
  assert.deepEqual(json.repositories[0].extras, []);
  assert.deepEqual(temps(image), []);
  assert.equal(existsSync(stale), false);
});

test('a path too deep to place under the target is refused while planning: nothing is touched', async () => {
  const deep = path.join(world.root, 'opt/deep');
  const levels = 500;
  const rel = Array.from({ length: levels }, () => 'a').join('/');
  mkdirSync(path.join(deep, rel), { recursive: true });
  writeFileSync(path.join(deep, rel, 'leaf'), 'deep\n');
  assert.equal((await world.pacha(['watch', deep])).code, 0);
  // A --root long enough that root + location + 1,000 bytes passes Linux's 4,096.
  const image = path.join(world.dir, ...Array.from({ length: 31 }, () => 'x'.repeat(100)));
  mkdirSync(image, { recursive: true });
  const state = path.join(world.dir, 'deep-state');
  const r = await world.pacha(['--root', image, '--state', state, 'rebuild', 'bar', '--directory', 'deep', '--yes']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /refusing to rebuild; nothing was touched/);
  assert.match(r.stderr, /levels deep\) would be \d+ bytes long/);
  assert.deepEqual(readdirSync(image), [], 'nothing placed');
  assert.deepEqual(readdirSync(path.join(state, 'stage')), []);
});
