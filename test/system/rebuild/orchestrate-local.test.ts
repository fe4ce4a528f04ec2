// Rebuild against the standalone (local) master: --directory, two tracked paths with one
// basename, --root, and repositories or targets that would make pacha write where it must not.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { forgeRepository } from '../../helpers/forge.js';
import { makeWorld, type World } from '../../helpers/world.js';

let world: World;
let optFoo: string;
let etcFoo: string;

before(async () => {
  world = await makeWorld({ ssh: false });
  optFoo = path.join(world.root, 'opt/foo');
  etcFoo = path.join(world.root, 'etc/foo');
  for (const [dir, text] of [[optFoo, 'opt'], [etcFoo, 'etc']] as const) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'which'), `${text}\n`);
  }
  const r = await world.pacha(['watch', optFoo, etcFoo]);
  assert.equal(r.code, 0, r.stderr);
});

test('two tracked paths with the same basename both survive on the master', () => {
  const names = readdirSync(path.join(world.masterDir, 'bar')).sort();
  assert.equal(names.length, 2);
  assert.ok(names.includes('foo'));
  const texts = names.map((n) => readFileSync(path.join(world.masterDir, 'bar', n, 'which'), 'utf8')).sort();
  assert.deepEqual(texts, ['etc\n', 'opt\n']);
});

test('--directory rebuilds one tracked path only', async () => {
  rmSync(optFoo, { recursive: true });
  rmSync(etcFoo, { recursive: true });
  const r = await world.pacha(['--rebuild', 'bar', '--directory', 'foo', '--yes']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path.join(optFoo, 'which'), 'utf8'), 'opt\n');
  assert.equal(existsSync(etcFoo), false);
  const all = await world.pacha(['rebuild', 'bar', '--yes']);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(readFileSync(path.join(etcFoo, 'which'), 'utf8'), 'etc\n');
});

test('--directory naming a path the master does not have lists the ones it has', async () => {
  const r = await world.pacha(['rebuild', 'bar', '--directory', 'nope', '--yes']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /foo/);
});

test('--root places everything under another directory and leaves the host alone', async () => {
  const image = path.join(world.dir, 'image');
  // An image has its own accounts: owners are resolved by name against them.
  mkdirSync(path.join(image, 'etc'), { recursive: true });
  writeFileSync(path.join(image, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(path.join(image, 'etc/group'), 'root:x:0:\n');
  writeFileSync(path.join(optFoo, 'which'), 'changed on the host\n');
  const r = await world.pacha(['--root', image, 'rebuild', 'bar', '--yes', '--state', path.join(world.dir, 'image-state')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path.join(image, optFoo, 'which'), 'utf8'), 'opt\n');
  assert.equal(readFileSync(path.join(optFoo, 'which'), 'utf8'), 'changed on the host\n');
});

/** A repository on the master as a hostile or broken master could hold it. */
function forgeOnMaster(host: string, metadata: unknown, files: Record<string, string>): void {
  forgeRepository(path.join(world.masterDir, host, 'foo'), { ...files, '.pacha/metadata.json': JSON.stringify(metadata) });
}

const owner = { user: { name: 'root', id: 0 }, group: { name: 'root', id: 0 } };

test("a repository whose metadata names a path with '..' is refused and nothing is written", async () => {
  const outside = path.join(world.dir, 'outside-dotdot');
  forgeOnMaster('evil1', {
    version: 1,
    location: path.join(world.root, 'srv/app'),
    host: 'evil1',
    single: false,
    entries: [
      { path: '.', type: 'directory', mode: 0o755, ...owner },
      { path: '../../outside-dotdot', type: 'file', mode: 0o644, ...owner },
    ],
  }, { x: 'x\n' });
  const r = await world.pacha(['rebuild', 'evil1', '--yes']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /\.\./);
  assert.equal(existsSync(outside), false);
  assert.equal(existsSync(path.join(world.root, 'srv/app')), false);
});

test('a repository that would write through a symlinked directory is refused', async () => {
  const outside = path.join(world.dir, 'outside-link');
  mkdirSync(outside);
  forgeOnMaster('evil2', {
    version: 1,
    location: path.join(world.root, 'srv/app2'),
    host: 'evil2',
    single: false,
    entries: [
      { path: '.', type: 'directory', mode: 0o755, ...owner },
      { path: 'link', type: 'symlink', mode: 0o777, target: outside, ...owner },
      { path: 'link/pwned', type: 'file', mode: 0o644, ...owner },
    ],
  }, { pwned: 'x\n' });
  const r = await world.pacha(['rebuild', 'evil2', '--yes']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /symlink/);
  assert.deepEqual(readdirSync(outside), []);
  assert.equal(existsSync(path.join(world.root, 'srv/app2')), false);
});

test('a target whose subdirectory is a symlink pointing outside is refused before anything is written', async () => {
  const outside = path.join(world.dir, 'outside-target');
  mkdirSync(outside);
  const dir = path.join(world.root, 'opt/deep');
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'sub/conf'), 'v1\n');
  writeFileSync(path.join(dir, 'top'), 'top\n');
  assert.equal((await world.pacha(['watch', dir])).code, 0);
  rmSync(path.join(dir, 'sub'), { recursive: true });
  rmSync(path.join(dir, 'top'));
  symlinkSync(outside, path.join(dir, 'sub'));
  const r = await world.pacha(['rebuild', 'bar', '--directory', 'deep', '--yes']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /symlink/);
  assert.deepEqual(readdirSync(outside), []);
  assert.equal(existsSync(path.join(dir, 'top')), false, 'nothing placed when any entry is refused');
});

test('a repository outside pacha.watch is NOT restored (exit 4): neither placed nor tracked; the local master keeps copies private', async () => {
  const w = await makeWorld({ ssh: false });
  const keep = path.join(w.root, 'etc/app');
  const foreign = path.join(w.root, 'root/.ssh');
  mkdirSync(keep, { recursive: true });
  mkdirSync(foreign, { recursive: true });
  writeFileSync(path.join(keep, 'app.conf'), 'app\n');
  writeFileSync(path.join(foreign, 'id_ed25519'), 'not really a key\n', { mode: 0o600 });
  assert.equal((await w.pacha(['watch', keep, foreign])).code, 0);
  assert.equal(execFileSync('find', [path.join(w.masterDir, 'bar'), '!', '-type', 'l', '-perm', '/077'], { encoding: 'utf8' }), '');
  rmSync(path.join(w.root, 'etc'), { recursive: true });
  rmSync(path.join(w.root, 'root'), { recursive: true });
  rmSync(w.stateDir, { recursive: true });
  w.writeConfig([`pacha.watch = ${keep}`]);
  const dry = await w.pacha(['rebuild', '--dry-run']);
  assert.equal(dry.code, 4, dry.stderr);
  assert.match(dry.stdout, new RegExp(`Would NOT restore:\\n  \\S+ → ${foreign.replace(/[/.]/g, '\\$&')}: its metadata places it at`));
  const r = await w.pacha(['rebuild', '--yes', '--json']);
  assert.equal(r.code, 4, r.stderr);
  const report = JSON.parse(r.stdout) as { notRestored: Array<{ location: string; reason: string }>; repositories: Array<{ location: string }> };
  assert.deepEqual(report.notRestored.map((n) => n.location), [foreign]);
  assert.match(report.notRestored[0]!.reason, /outside what this host tracks \(pacha\.watch = /);
  assert.deepEqual(report.repositories.map((x) => x.location), [keep]);
  assert.equal(readFileSync(path.join(keep, 'app.conf'), 'utf8'), 'app\n');
  assert.equal(existsSync(foreign), false);
  const status = JSON.parse((await w.pacha(['--json', 'status'])).stdout) as { paths: Array<{ location: string }> };
  assert.deepEqual(status.paths.map((p) => p.location), [keep]);
});

// The branch's commit and the metadata are read by one `git cat-file --batch` (issue 14):
// an empty repository, a missing metadata file and a `.pacha` symlink are still told apart.
test('a repository without commits is named as such, and nothing is written', async () => {
  const repo = path.join(world.masterDir, 'empty1', 'foo');
  mkdirSync(repo, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  const r = await world.pacha(['rebuild', 'empty1', '--yes']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /foo of empty1 .*has no commits yet/);
});

test('a repository without .pacha/metadata.json, or whose .pacha is a symlink, is refused', async () => {
  forgeRepository(path.join(world.masterDir, 'nometa1', 'foo'), { 'app.conf': 'x\n' });
  const missing = await world.pacha(['rebuild', 'nometa1', '--yes']);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /foo of nometa1 has no readable \.pacha\/metadata\.json/);

  const elsewhere = path.join(world.dir, 'elsewhere-meta');
  mkdirSync(elsewhere, { recursive: true });
  writeFileSync(path.join(elsewhere, 'metadata.json'), JSON.stringify({ version: 1, location: path.join(world.root, 'srv/x'), host: 'linkmeta1', single: false, entries: [] }));
  forgeRepository(path.join(world.masterDir, 'linkmeta1', 'foo'), { 'real/metadata.json': '{}' }, (repo) => symlinkSync('real', path.join(repo, '.pacha')));
  const linked = await world.pacha(['rebuild', 'linkmeta1', '--yes']);
  assert.equal(linked.code, 1, linked.stderr);
  assert.match(linked.stderr, /foo of linkmeta1 has no readable \.pacha\/metadata\.json/);
  assert.equal(existsSync(path.join(world.root, 'srv/x')), false);
});

test('metadata an older pacha wrote (version 2: every entry in .pacha/metadata.json) is still restored', async () => {
  const w = await makeWorld({ ssh: false });
  const location = path.join(w.root, 'srv/v2');
  const metadata = {
    version: 2,
    location,
    host: 'v2old',
    single: false,
    entries: [
      { path: '.', type: 'directory', mode: 0o750, ...owner },
      { path: 'app.conf', type: 'file', mode: 0o640, ...owner, size: 4 },
    ],
  };
  forgeRepository(path.join(w.masterDir, 'v2old', 'v2'), { '.pacha/metadata.json': JSON.stringify(metadata), 'app.conf': 'old\n' });
  const r = await w.pacha(['rebuild', 'v2old', '--yes']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path.join(location, 'app.conf'), 'utf8'), 'old\n');
  assert.equal(statSync(path.join(location, 'app.conf')).mode & 0o7777, 0o640);
  assert.equal(statSync(location).mode & 0o7777, 0o750);
});

test('version 3 metadata from a hostile master: a shard that is a symlink, or one entry in two shards, is refused and nothing is written', async () => {
  const header = (host: string, location: string) => JSON.stringify({ version: 3, location, host, single: false, shards: 16 });
  const line = (entry: object) => `[\n    ${JSON.stringify(entry)}\n]\n`;
  const root = { path: '.', type: 'directory', mode: 0o755, ...owner };

  const linked = path.join(world.root, 'srv/linked-shard');
  const outside = path.join(world.dir, 'outside-shard.json');
  writeFileSync(outside, line({ path: 'x', type: 'file', mode: 0o644, ...owner }));
  forgeRepository(
    path.join(world.masterDir, 'shardlink1', 'foo'),
    { '.pacha/metadata.json': header('shardlink1', linked), '.pacha/metadata/0.json': line(root), x: 'x\n' },
    (repo) => symlinkSync(outside, path.join(repo, '.pacha/metadata/1.json')),
  );
  const r1 = await world.pacha(['rebuild', 'shardlink1', '--yes']);
  assert.equal(r1.code, 1, r1.stderr);
  assert.match(r1.stderr, /has no readable \.pacha\/metadata\.json: \.pacha\/metadata\/1\.json is not a plain file/);
  assert.equal(existsSync(linked), false);

  const twice = path.join(world.root, 'srv/twice');
  const entry = { path: 'x', type: 'file', mode: 0o644, ...owner };
  forgeRepository(path.join(world.masterDir, 'twice1', 'foo'), {
    '.pacha/metadata.json': header('twice1', twice),
    '.pacha/metadata/0.json': `[\n    ${JSON.stringify(root)},\n    ${JSON.stringify(entry)}\n]\n`,
    '.pacha/metadata/1.json': line({ ...entry, mode: 0o4755 }),
    x: 'x\n',
  });
  const r2 = await world.pacha(['rebuild', 'twice1', '--yes']);
  assert.equal(r2.code, 1, r2.stderr);
  assert.match(r2.stderr, /duplicate entry path/);
  assert.equal(existsSync(twice), false);
});

test('a tracked file hard-linked to a file outside the tracked path, or to an extra, is replaced: nothing is chmod\'ed through the link, no link is left', async () => {
  const own = await makeWorld({ ssh: false });
  const dir = path.join(own.root, 'etc/links');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'secret'), 'k\n', { mode: 0o600 });
  writeFileSync(path.join(dir, 'plain'), '');
  assert.equal((await own.pacha(['watch', dir])).code, 0);
  // The same bytes, one inode with a world-readable file outside, and an extra sharing `plain`.
  const outside = path.join(own.dir, 'outside-copy');
  writeFileSync(outside, 'k\n', { mode: 0o644 });
  rmSync(path.join(dir, 'secret'));
  linkSync(outside, path.join(dir, 'secret'));
  linkSync(path.join(dir, 'plain'), path.join(dir, 'extra'));
  const r = await own.pacha(['rebuild', 'bar', '--yes']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(outside).mode & 0o7777, 0o644, 'the file outside keeps its mode');
  // (The displaced inodes are linked into the backups too: compare inodes, not link counts.)
  assert.notEqual(statSync(outside).ino, statSync(path.join(dir, 'secret')).ino);
  assert.equal(statSync(path.join(dir, 'secret')).mode & 0o7777, 0o600);
  assert.equal(statSync(path.join(dir, 'plain')).nlink, 1);
  assert.notEqual(statSync(path.join(dir, 'extra')).ino, statSync(path.join(dir, 'plain')).ino, 'the extra is left, apart');
  const again = await own.pacha(['rebuild', 'bar', '--dry-run']);
  assert.match(again.stdout, /links → .*: 0 to create, 0 to replace, 0 mode\/owner to fix/);
});
