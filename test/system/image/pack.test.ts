// `npm pack` and `npm install -g ./pacha-*.tgz`, for real: the tarball holds the built CLI,
// the systemd units, the packer/ and cloud-init/ examples and the README, and nothing of
// the checkout besides; installed globally into a scratch prefix (dependencies from the
// npm registry or its cache, install scripts run as a user's would), `pacha` answers
// --version and --help, reads a config file, and logs in to a real sshd with the ssh2 that
// npm installed beside it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeConfig } from '../../helpers/cli.js';
import { startSshd, type Sshd } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tmp.js';
import { REPO, runCommand, type CommandResult } from '../../helpers/image-command.js';

const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

/** The directories shipped whole, as examples and units: every file in them must be packed. */
const SHIPPED_DIRS = ['systemd', 'packer', 'cloud-init'];

/**
 * This process's environment without the `npm_*` variables `npm test` put there: those
 * describe the enclosing `npm run` (its prefix, its package) and would steer the npm
 * commands below away from what a user typing them would get. ~/.npmrc still applies.
 */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
}

function npm(args: string[], cwd: string): CommandResult {
  // An install resolves ~70 packages and builds ssh2's optional native parts: minutes, not seconds, on a loaded machine.
  const r = runCommand('npm', args, { cwd, env: npmEnv(), timeout: 600_000 });
  assert.equal(r.status, 0, r.describe);
  return r;
}

/** Every file under `dir`, relative to the repository ("packer/install.sh"). */
function filesUnder(dir: string): string[] {
  return readdirSync(path.join(REPO, dir), { recursive: true, encoding: 'utf8' })
    .map((rel) => path.join(dir, rel))
    .filter((rel) => statSync(path.join(REPO, rel)).isFile())
    .sort();
}

describe('npm pack', () => {
  let tarball = '';
  let entries: string[] = [];

  before(() => {
    const out = tempDir('pacha-pack-');
    // --ignore-scripts: `npm test` has just built dist/; a prepack build here would rewrite
    // dist/ under the tests that run the CLI beside this one.
    const r = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', out], REPO);
    const [info] = JSON.parse(r.stdout) as Array<{ filename: string }>;
    assert.ok(info, r.describe);
    tarball = path.join(out, info.filename);
    assert.equal(path.basename(tarball), `pacha-${VERSION}.tgz`);
    const list = runCommand('tar', ['-tzf', tarball]);
    assert.equal(list.status, 0, list.describe);
    entries = list.stdout.split('\n').filter(Boolean).map((e) => e.replace(/^package\//, ''));
  });

  it('holds the built CLI, package.json and the README', () => {
    for (const file of ['package.json', 'README.md', 'dist/bundle/bin.js', 'dist/cli/bin.js', 'dist/cli/main.js']) assert.ok(entries.includes(file), `${file} not in ${tarball}:\n${entries.join('\n')}`);
    // The bundle's chunks, every one: the entry imports them by relative path.
    const bundle = filesUnder('dist/bundle');
    assert.ok(bundle.length > 2, bundle.join('\n'));
    assert.deepEqual(bundle.filter((f) => !entries.includes(f)), [], 'missing from the tarball');
  });

  it('holds every file of the systemd units and the packer/ and cloud-init/ examples', () => {
    const expected = SHIPPED_DIRS.flatMap(filesUnder);
    assert.ok(expected.includes('systemd/pacha.service') && expected.includes('packer/pacha.pkr.hcl') && expected.includes('packer/install.sh'), expected.join('\n'));
    assert.ok(expected.some((f) => f.startsWith('cloud-init/')), expected.join('\n'));
    assert.deepEqual(
      expected.filter((f) => !entries.includes(f)),
      [],
      'missing from the tarball',
    );
  });

  it('holds nothing of the checkout besides: no sources, tests, scripts, CI or dependencies', () => {
    const stray = entries.filter((e) => /^(src|test|bench|scripts|docs|node_modules|\.ci|\.git)\//.test(e) || (/\.ts$/.test(e) && !/\.d\.ts$/.test(e)) || e.endsWith('.tgz'));
    assert.deepEqual(stray, []);
  });

  describe('installed with `npm install -g ./pacha-*.tgz`', () => {
    let prefix = '';
    let bin = '';
    let sshd: Sshd;

    before(async () => {
      prefix = path.join(tempDir('pacha-prefix-'), 'prefix');
      // From the tarball's own directory, by a relative path, as the README tells a user to.
      npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', `./${path.basename(tarball)}`], path.dirname(tarball));
      bin = path.join(prefix, 'bin', 'pacha');
      sshd = await startSshd();
    });
    after(async () => {
      await sshd?.stop();
    });

    /** The installed `pacha`, run by its hashbang like a user's shell would, with a bare environment. */
    function pacha(args: string[], env: Record<string, string> = {}): CommandResult {
      return runCommand(bin, args, { cwd: prefix, env: { PATH: process.env.PATH, HOME: tempDir('pacha-home-'), NODE_NO_WARNINGS: '1', ...env } });
    }

    it('puts `pacha` on the prefix bin/, linked to the bundle\'s entry (bin.js: the compile cache, then the CLI\'s chunks)', () => {
      assert.equal(readlinkSync(bin), '../lib/node_modules/pacha/dist/bundle/bin.js');
      assert.ok(statSync(bin).mode & 0o111, `${bin} is not executable`);
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
      assert.match(r.stdout, /^\s+boot\b/m);
    });

    it('reads a config file (`pacha config`)', () => {
      const dir = tempDir();
      const config = writeConfig(dir, ['[DEFAULT]', 'pacha.host = local', `pacha.hosts.path = ${path.join(dir, 'master')}`, 'pacha.hostname = bar', `pacha.state.path = ${path.join(dir, 'state')}`]);
      const r = pacha(['-c', config, 'config']);
      assert.equal(r.status, 0, r.describe);
      assert.match(r.stdout, /^pacha\.hostname\s+= bar\s+# file:/m, r.describe);
    });

    it('logs in to a real master over SSH with the installed ssh2 (`pacha hosts`)', () => {
      const r = pacha(['hosts'], {
        PACHA_HOST: '127.0.0.1',
        PACHA_SSH_PORT: String(sshd.port),
        PACHA_SSH_USER: sshd.user,
        PACHA_SSH_KEY: sshd.clientKey,
        PACHA_SSH_KNOWN_HOSTS: sshd.knownHosts,
        PACHA_HOSTS_PATH: tempDir('pacha-master-'),
        PACHA_STATE_PATH: tempDir('pacha-state-'),
      });
      assert.equal(r.status, 0, r.describe);
    });
  });
});
