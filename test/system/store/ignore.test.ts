// Ignore rules (issue 9, item 1): the matcher, the watcher that does not wake for ignored
// entries, and the commands: watch --ignore, status, config, forget, pacha.ignore(.defaults),
// with a real git store, the local master and a rebuild.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { TreeWatcher } from '../../../src/daemon/watcher.js';
import { DEFAULT_IGNORE, ignoreMatcher, literalPattern } from '../../../src/store/ignore.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeWorld, type World } from '../../helpers/world.js';
import { metadataOfWorkingCopy } from '../../helpers/metadata.js';

describe('ignore matcher', () => {
  const defaults = ignoreMatcher(DEFAULT_IGNORE);

  test('the defaults leave out what a sysadmin expects, at any depth, and nothing else', () => {
    for (const junk of ['.hosts.swp', 'nginx/.site.conf.swo', 'fstab~', 'apt/sources.list.dpkg-old', 'x.dpkg-dist', 'grub.ucf-old', 'ld.so.cache', '.pwd.lock', 'lib/a.pyc', '#hosts#', '.#hosts']) {
      assert.equal(defaults(junk, false), true, junk);
    }
    assert.equal(defaults('app/__pycache__', true), true);
    for (const kept of ['hosts', 'fstab', 'nginx/sites/default', 'swap.conf', 'pycache', 'mnt-data\\x2dvol.mount', 'app/__pycache__']) {
      assert.equal(defaults(kept, false), false, kept);
    }
  });

  test('gitignore semantics: anchored, directory-only, ** and negation', () => {
    const m = ignoreMatcher(['/top.conf', 'cache/', 'logs/**/*.log', '*.bak', '!keep.bak']);
    assert.equal(m('top.conf', false), true);
    assert.equal(m('sub/top.conf', false), false);
    assert.equal(m('a/cache', true), true);
    assert.equal(m('a/cache', false), false);
    assert.equal(m('logs/x/y/z.log', false), true);
    assert.equal(m('old.bak', false), true);
    assert.equal(m('keep.bak', false), false);
  });

  test('forget patterns match exactly the one path, whatever characters its name holds', () => {
    for (const rel of ['a*b', '#x', '!y', 'mnt-data\\x2dvol.mount', 'sp ', '[ab]', 'd/e?f', 'tab\tx', 'caf\udce9']) {
      const m = ignoreMatcher([literalPattern(rel)]);
      assert.equal(m(rel, false), true, rel);
      assert.equal(m(`d/${rel}`, false), false, rel);
      assert.equal(m(`${rel}x`, false), false, rel);
    }
  });
});

describe('the watcher does not wake for ignored entries', () => {
  test('no event for an ignored file or anything in an ignored directory; events for the rest', async () => {
    const root = tempDir('pacha-ignore-watch-');
    mkdirSync(path.join(root, '__pycache__'));
    const matcher = ignoreMatcher(DEFAULT_IGNORE);
    const w = new TreeWatcher(root, { ignored: matcher });
    after(() => w.close());
    await w.start();
    const events: string[] = [];
    w.on('change', (file) => events.push(path.relative(root, file)));
    assert.equal(w.watchedDirectories, 1); // __pycache__ got no watch
    writeFileSync(path.join(root, '.hosts.swp'), 'x');
    writeFileSync(path.join(root, 'hosts~'), 'x');
    writeFileSync(path.join(root, '__pycache__/a.pyc'), 'x');
    mkdirSync(path.join(root, 'sub/__pycache__'), { recursive: true });
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(path.join(root, 'sub/__pycache__/b.pyc'), 'x');
    writeFileSync(path.join(root, 'hosts'), 'x');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(events.includes('hosts'), JSON.stringify(events));
    assert.deepEqual(events.filter((e) => e !== 'hosts' && e !== 'sub'), []);
  });
});

describe('ignore rules end to end (local master)', () => {
  let world: World;
  let foo: string;
  const master = (rel: string) => path.join(world.masterDir, 'bar/foo', rel);
  const json = async (args: string[]) => {
    const r = await world.pacha([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  test('watch --ignore: junk and the path\'s own patterns stay off the master; status and config show them', async () => {
    world = await makeWorld({ ssh: false });
    world.writeConfig(['pacha.ignore = *.bak, /local/']);
    foo = path.join(world.root, 'etc/foo');
    mkdirSync(path.join(foo, 'local'), { recursive: true });
    mkdirSync(path.join(foo, 'lib/__pycache__'), { recursive: true });
    for (const [rel, text] of Object.entries({
      'hosts': 'h\n', '.hosts.swp': 's', 'fstab~': 'b', 'sources.list.dpkg-old': 'd', 'grub.ucf-old': 'u', 'ld.so.cache': 'c',
      '.pwd.lock': '', 'lib/mod.py': 'p', 'lib/__pycache__/mod.cpython-311.pyc': 'c', 'old.bak': 'b', 'local/state': 's', 'secret.tmp': 't',
    })) writeFileSync(path.join(foo, rel), text);
    const r = await world.pacha(['watch', foo, '--ignore', '*.tmp']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ignoring \(this path\): \*\.tmp/);
    assert.equal(readFileSync(master('hosts'), 'utf8'), 'h\n');
    assert.equal(readFileSync(master('lib/mod.py'), 'utf8'), 'p');
    for (const junk of ['.hosts.swp', 'fstab~', 'sources.list.dpkg-old', 'grub.ucf-old', 'ld.so.cache', '.pwd.lock', 'lib/__pycache__', 'old.bak', 'local', 'secret.tmp']) {
      assert.equal(existsSync(master(junk)), false, junk);
    }
    const metadata = JSON.stringify(metadataOfWorkingCopy(master('.')));
    assert.doesNotMatch(metadata, /swp|fstab~|__pycache__|secret\.tmp/);
    const status = await json(['status']);
    const paths = status.paths as Array<{ ignore: string[]; ignoring: string[] }>;
    assert.deepEqual(paths[0]?.ignore, ['*.tmp']);
    assert.ok(paths[0]?.ignoring.includes('*.swp') && paths[0].ignoring.includes('*.bak') && paths[0].ignoring.includes('*.tmp'));
    const config = await world.pacha(['config']);
    assert.match(config.stdout, /pacha\.ignore +\= \*\.bak,\/local\/ +# file:/);
    assert.match(config.stdout, /pacha\.ignore\.defaults += true +# default/);
  });

  test('a newly matching pattern takes a tracked file out of the next commit; the history keeps it', async () => {
    writeFileSync(path.join(foo, 'notes.txt'), 'notes\n');
    assert.equal((await world.pacha(['push'])).code, 0);
    assert.ok(existsSync(master('notes.txt')));
    const r = await world.pacha(['watch', foo, '--ignore', '*.txt']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /now also ignoring \*\.txt/);
    assert.match(r.stdout, /committed .*notes\.txt/);
    assert.equal(existsSync(master('notes.txt')), false);
    assert.ok(existsSync(path.join(foo, 'notes.txt')), 'the file itself stays on the host');
    const log = execFileSync('git', ['-C', path.join(world.masterDir, 'bar/foo'), 'log', '--format=%s', '--', 'notes.txt']).toString();
    assert.equal(log.trim().split('\n').length, 2, log); // added, then removed: both in the history
  });

  test('forget PATH: one entry leaves tracking (its name escaped), the rest stays; history says so', async () => {
    writeFileSync(path.join(foo, 'weird[1].conf'), 'w\n');
    writeFileSync(path.join(foo, 'weird1.conf'), 'w1\n');
    assert.equal((await world.pacha(['push'])).code, 0);
    const r = await world.pacha(['forget', path.join(foo, 'weird[1].conf')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no longer tracked .*history of foo keeps its past versions/);
    assert.equal(existsSync(master('weird[1].conf')), false);
    assert.ok(existsSync(master('weird1.conf')));
    const notInside = await world.pacha(['forget', '/nowhere/x']);
    assert.equal(notInside.code, 2);
    assert.match(notInside.stderr, /not inside a tracked directory/);
  });

  test('a rebuild leaves ignored files out and keeps the path\'s own patterns', async () => {
    rmSync(foo, { recursive: true, force: true });
    rmSync(world.stateDir, { recursive: true, force: true });
    const r = await world.pacha(['rebuild', 'bar', '--yes']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(readFileSync(path.join(foo, 'hosts'), 'utf8'), 'h\n');
    for (const junk of ['.hosts.swp', 'fstab~', 'old.bak', 'secret.tmp', 'notes.txt', 'weird[1].conf']) assert.equal(existsSync(path.join(foo, junk)), false, junk);
    const status = await json(['status']);
    assert.deepEqual((status.paths as Array<{ ignore: string[] }>)[0]?.ignore, ['*.tmp', '*.txt', '/weird\\[1\\].conf']);
    // The rebuilt host keeps leaving them out.
    writeFileSync(path.join(foo, 'again.tmp'), 't');
    writeFileSync(path.join(foo, 'hosts'), 'h2\n');
    assert.equal((await world.pacha(['push'])).code, 0);
    assert.equal(readFileSync(master('hosts'), 'utf8'), 'h2\n');
    assert.equal(existsSync(master('again.tmp')), false);
  });

  test('pacha.ignore.defaults = false: the defaults are tracked again, pacha.ignore still applies', async () => {
    world.writeConfig(['pacha.ignore = *.bak', 'pacha.ignore.defaults = false']);
    writeFileSync(path.join(foo, 'fstab~'), 'backup\n');
    writeFileSync(path.join(foo, 'x.bak'), 'b');
    const r = await world.pacha(['push']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(master('fstab~'), 'utf8'), 'backup\n');
    assert.equal(existsSync(master('x.bak')), false);
  });
});
