// scripts/bundle.mjs (`npm run bundle`): src/cli/main.ts as one ESM file that runs with
// only node: copied alone into an empty directory (no node_modules anywhere above it),
// it answers --version and --help, and runs a command that needs ssh2 against a real sshd.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keygen, startSshd, type Sshd } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tmp.js';
import { REPO, runCommand, type CommandResult } from '../../helpers/image-command.js';

const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

/** Environment of a bare image: no NODE_PATH, nothing from this checkout. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: tempDir('pacha-home-'), NODE_NO_WARNINGS: '1', ...extra };
}

describe('the one-file bundle', () => {
  let bundle = '';
  let build: CommandResult;

  before(() => {
    const out = path.join(tempDir('pacha-bundle-out-'), 'pacha.mjs');
    build = runCommand(process.execPath, [path.join(REPO, 'scripts', 'bundle.mjs'), '--outfile', out], { cwd: REPO });
    assert.equal(build.status, 0, build.describe);
    // Alone in an empty directory: whatever it needs must be inside it.
    bundle = path.join(tempDir('pacha-bundle-alone-'), 'pacha.mjs');
    copyFileSync(out, bundle);
  });

  function pacha(args: string[], env: NodeJS.ProcessEnv = bareEnv()): CommandResult {
    return runCommand(process.execPath, [bundle, ...args], { cwd: path.dirname(bundle), env });
  }

  it('is built from src/cli/main.ts and reports its size', () => {
    assert.match(build.stdout, /pacha\.mjs: [\d.]+ MiB \(\d+ bytes, \d+ inputs\)/, build.describe);
    assert.ok(statSync(bundle).size > 0);
  });

  it('starts with one hashbang, so it runs as an executable', () => {
    const text = readFileSync(bundle, 'utf8');
    assert.ok(text.startsWith('#!/usr/bin/env node\n'));
    assert.equal(text.match(/^#!/gm)?.length, 1);
    chmodSync(bundle, 0o755);
    const r = runCommand(bundle, ['--version'], { cwd: path.dirname(bundle), env: bareEnv() });
    assert.equal(r.status, 0, r.describe);
  });

  it('--version prints the package version', () => {
    const r = pacha(['--version']);
    assert.equal(r.status, 0, r.describe);
    assert.equal(r.stdout.trim(), VERSION);
  });

  it('--help lists the commands', () => {
    const r = pacha(['--help']);
    assert.equal(r.status, 0, r.describe);
    assert.match(r.stdout, /^Usage: pacha /m);
    assert.match(r.stdout, /^\s+rebuild\b/m);
  });

  describe('with ssh2 inside the bundle (no native parts)', () => {
    let sshd: Sshd;
    before(async () => {
      sshd = await startSshd();
    });
    after(async () => {
      await sshd?.stop();
    });

    function hosts(knownHosts: string): CommandResult {
      return pacha(
        ['hosts'],
        bareEnv({
          PACHA_HOST: '127.0.0.1',
          PACHA_SSH_PORT: String(sshd.port),
          PACHA_SSH_USER: sshd.user,
          PACHA_SSH_KEY: sshd.clientKey,
          PACHA_SSH_KNOWN_HOSTS: knownHosts,
          PACHA_HOSTS_PATH: tempDir('pacha-master-'),
          PACHA_STATE_PATH: tempDir('pacha-state-'),
        }),
      );
    }

    it('connects, checks the pinned host key and logs in (`pacha hosts`)', () => {
      const r = hosts(sshd.knownHosts);
      // test/helpers/sshd.ts starts sshd without an sftp subsystem (-f /dev/null): then the
      // first SFTP request is where it stops, after key exchange, host key check and login.
      if (r.status !== 0) assert.match(r.stderr, /opening SFTP failed: Unable to start subsystem: sftp/, r.describe);
    });

    it('refuses a master whose host key is not the pinned one', () => {
      const dir = tempDir();
      keygen(path.join(dir, 'other_host_key'));
      const otherKey = readFileSync(path.join(dir, 'other_host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
      const wrong = path.join(dir, 'known_hosts');
      writeFileSync(wrong, `[127.0.0.1]:${sshd.port} ${otherKey}\n`);
      const r = hosts(wrong);
      assert.notEqual(r.status, 0, r.describe);
      assert.match(r.stderr, /host key|not the key pacha trusts/i, r.describe);
      assert.doesNotMatch(r.stderr, /SFTP/, r.describe);
    });
  });
});
