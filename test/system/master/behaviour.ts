// The behaviour every Master must have, written once and run against the local master and
// the SSH master (a real sshd on loopback, so the master's disk is this machine's too).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { MasterError } from '../../../src/errors.js';
import type { Master } from '../../../src/master/master.js';
import { tempDir } from '../../helpers/tmp.js';

/** Opens a master on hostsPath, with its own state dir; closed by the suite. */
export type OpenMaster = (hostsPath: string) => Promise<Master>;

function git(cwd: string, args: string[], env?: Record<string, string>): string {
  return execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A scratch repository with one commit on main, as the store would make it. */
export function scratchRepository(files: Record<string, string>): string {
  const dir = tempDir('pacha-scratch-');
  git(dir, ['init', '-q', '-b', 'main']);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'first']);
  return dir;
}

export function masterBehaviour(kind: string, open: OpenMaster): void {
  const withMaster = async (body: (master: Master, hostsPath: string) => Promise<void>): Promise<void> => {
    const hostsPath = path.join(tempDir('pacha-master-'), 'hosts');
    mkdirSync(hostsPath);
    const master = await open(hostsPath);
    try {
      await body(master, hostsPath);
    } finally {
      await master.close();
    }
  };

  test(`${kind}: addHost creates once, listHosts lists real host directories only, sorted`, () =>
    withMaster(async (master, hostsPath) => {
      assert.deepEqual(await master.listHosts(), []);
      assert.equal(await master.addHost('bar'), 'created');
      assert.equal(await master.addHost('bar'), 'exists');
      assert.equal(await master.addHost('Abc'), 'created');
      writeFileSync(path.join(hostsPath, 'not-a-host'), '');
      mkdirSync(path.join(hostsPath, '.hidden'));
      symlinkSync(path.join(hostsPath, 'bar'), path.join(hostsPath, 'link'));
      assert.deepEqual(await master.listHosts(), ['Abc', 'bar']);
      assert.ok(statSync(path.join(hostsPath, 'bar')).isDirectory());
    }));

  test(`${kind}: addHost refuses a file in the way and unsafe names`, () =>
    withMaster(async (master, hostsPath) => {
      writeFileSync(path.join(hostsPath, 'file'), '');
      await assert.rejects(master.addHost('file'), (e) => e instanceof MasterError && e.code === 'EMASTERNOTDIR');
      for (const bad of ['', '..', '.', 'a/b']) {
        await assert.rejects(master.addHost(bad), (e) => e instanceof MasterError && e.code === 'EBADNAME', bad);
      }
      await assert.rejects(master.ensureRepository('bar', '../x'), (e) => e instanceof MasterError && e.code === 'EBADNAME');
      assert.deepEqual(readdirSync(hostsPath), ['file']);
    }));

  test(`${kind}: a missing hosts_path is a MasterError naming it`, async () => {
    const missing = path.join(tempDir('pacha-master-'), 'no', 'hosts');
    const master = await open(missing);
    try {
      for (const action of [() => master.addHost('bar'), () => master.listHosts(), () => master.ensureRepository('bar', 'foo')]) {
        await assert.rejects(action(), (e) => e instanceof MasterError && e.code === 'ENOHOSTSPATH' && e.message.includes(missing));
      }
    } finally {
      await master.close();
    }
  });

  test(`${kind}: ensureRepository is idempotent; describeHost lists repositories and hook dirs`, () =>
    withMaster(async (master, hostsPath) => {
      assert.equal(await master.describeHost('bar'), undefined);
      assert.equal(await master.ensureRepository('bar', 'foo'), 'created');
      assert.equal(await master.ensureRepository('bar', 'foo'), 'exists');
      assert.equal(await master.ensureRepository('bar', 'etc'), 'created');
      const repo = path.join(hostsPath, 'bar', 'foo');
      assert.equal(git(repo, ['config', 'receive.denyCurrentBranch']).trim(), 'updateInstead');
      assert.equal(git(repo, ['symbolic-ref', 'HEAD']).trim(), 'refs/heads/main');
      mkdirSync(path.join(hostsPath, 'bar', 'plain-dir'));
      mkdirSync(path.join(hostsPath, 'bar', 'pacha_pre'));
      assert.deepEqual(await master.describeHost('bar'), { host: 'bar', repositories: ['etc', 'foo'], hasPreHooks: true, hasPostHooks: false });
      assert.deepEqual(await master.listHosts(), ['bar']);
    }));

  test(`${kind}: a git push with gitEnv() lands in the master's working copy`, () =>
    withMaster(async (master, hostsPath) => {
      await master.ensureRepository('bar', 'foo');
      const scratch = scratchRepository({ 'app.conf': 'port = 80\n' });
      git(scratch, ['push', '-q', master.repositoryUrl('bar', 'foo'), 'main'], master.gitEnv());
      assert.equal(readFileSync(path.join(hostsPath, 'bar', 'foo', 'app.conf'), 'utf8'), 'port = 80\n');
      // A second push (the daemon's case) updates the working copy too.
      writeFileSync(path.join(scratch, 'app.conf'), 'port = 8080\n');
      git(scratch, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-am', 'second']);
      git(scratch, ['push', '-q', master.repositoryUrl('bar', 'foo'), 'main'], master.gitEnv());
      assert.equal(readFileSync(path.join(hostsPath, 'bar', 'foo', 'app.conf'), 'utf8'), 'port = 8080\n');
    }));

  test(`${kind}: fetchHooks copies regular files with their modes, in C-locale order, and lists the rest`, () =>
    withMaster(async (master, hostsPath) => {
      const pre = path.join(hostsPath, 'bar', 'pacha_pre');
      mkdirSync(pre, { recursive: true });
      const hook = (name: string, mode: number): void => writeFileSync(path.join(pre, name), `#!/bin/sh\necho ${name}\n`, { mode });
      hook('a', 0o755);
      hook('10-a', 0o700);
      hook('02-b', 0o644);
      hook('B', 0o4755);
      execFileSync('chmod', ['4755', path.join(pre, 'B')]);
      mkdirSync(path.join(pre, 'subdir'));
      symlinkSync('/bin/true', path.join(pre, 'link'));
      const local = path.join(tempDir('pacha-stage-'), 'hooks', 'pre');
      const hooks = await master.fetchHooks('bar', 'pre', local);
      assert.deepEqual(
        hooks.map((h) => [h.name, h.type, h.type === 'file' ? h.mode : undefined, h.localPath]),
        [
          ['02-b', 'file', 0o644, path.join(local, '02-b')],
          ['10-a', 'file', 0o700, path.join(local, '10-a')],
          ['B', 'file', 0o4755, path.join(local, 'B')],
          ['a', 'file', 0o755, path.join(local, 'a')],
          ['link', 'symlink', undefined, undefined],
          ['subdir', 'directory', undefined, undefined],
        ],
      );
      for (const name of ['02-b', '10-a', 'B', 'a']) {
        assert.equal(readFileSync(path.join(local, name), 'utf8'), `#!/bin/sh\necho ${name}\n`);
        assert.equal(lstatSync(path.join(local, name)).mode & 0o7777, lstatSync(path.join(pre, name)).mode & 0o7777, name);
      }
      assert.deepEqual(readdirSync(local).sort(), ['02-b', '10-a', 'B', 'a']);
      assert.deepEqual(await master.fetchHooks('bar', 'post', path.join(local, '..', 'post')), []);
      assert.deepEqual(await master.fetchHooks('nohost', 'pre', path.join(local, '..', 'x')), []);
    }));
}
