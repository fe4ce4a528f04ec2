// packer/install.sh and packer/cleanup.sh, run for real against a scratch root: every
// file they make checked by path, type, mode and content; a second run changes nothing;
// `systemctl --root` agrees the unit is enabled; shellcheck is clean.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../../src/config/file.js';
import { isKeyName } from '../../../src/config/keys.js';
import { tempDir } from '../../helpers/tmp.js';
import { REPO, runCommand, type CommandResult } from '../../helpers/image-command.js';

const INSTALL = path.join(REPO, 'packer', 'install.sh');
const CLEANUP = path.join(REPO, 'packer', 'cleanup.sh');
const UNIT = path.join(REPO, 'systemd', 'pacha.service');
const DEFAULT_CONF = path.join(REPO, 'packer', 'pacha.conf');
const LAUNCHER = '#!/bin/sh\nexec node /usr/local/lib/pacha/pacha.mjs "$@"\n';

interface Entry {
  type: 'file' | 'dir' | 'symlink';
  mode: string;
  /** sha256 of a file, target of a symlink. */
  content?: string;
  /** Inode and mtime: a file rewritten with the same bytes still shows up as a change. */
  identity?: string;
}

/** Every entry under `root`, keyed by its path inside the root ("/etc/pacha.conf"). */
function listing(root: string): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const st = lstatSync(full);
      const key = `/${path.relative(root, full)}`;
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      if (st.isSymbolicLink()) out[key] = { type: 'symlink', mode, content: readlinkSync(full) };
      else if (st.isDirectory()) {
        out[key] = { type: 'dir', mode };
        walk(full);
      } else {
        const content = createHash('sha256').update(readFileSync(full)).digest('hex');
        out[key] = { type: 'file', mode, content, identity: `${st.ino}:${st.mtimeMs}` };
      }
    }
  };
  walk(root);
  return out;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function stubBundle(): string {
  const file = path.join(tempDir(), 'pacha.mjs');
  writeFileSync(file, "#!/usr/bin/env node\nconsole.log('stand-in for dist/pacha.mjs');\n");
  return file;
}

function install(root: string, ...args: string[]): CommandResult {
  const r = runCommand('sh', [INSTALL, '--root', root, ...args]);
  assert.equal(r.status, 0, r.describe);
  return r;
}

describe('packer/install.sh', () => {
  for (const script of [INSTALL, CLEANUP]) {
    it(`${path.basename(script)} is shellcheck-clean`, () => {
      const r = runCommand('shellcheck', [script]);
      assert.equal(r.status, 0, r.describe);
    });
  }

  it('installs every file with its mode, enables the unit, and a second run changes nothing', () => {
    const root = tempDir('pacha-root-');
    const bundle = stubBundle();
    const first = install(root, '--bundle', bundle);
    assert.match(first.stderr, /warning: no node under/, 'under --root a missing node is a warning, not an error');

    const files = listing(root);
    const unitHash = sha256(UNIT);
    const expected: Record<string, Omit<Entry, 'identity'>> = {
      '/etc': { type: 'dir', mode: '0755' },
      '/etc/pacha.conf': { type: 'file', mode: '0600', content: sha256(DEFAULT_CONF) },
      '/etc/systemd': { type: 'dir', mode: '0755' },
      '/etc/systemd/system': { type: 'dir', mode: '0755' },
      '/etc/systemd/system/multi-user.target.wants': { type: 'dir', mode: '0755' },
      '/etc/systemd/system/multi-user.target.wants/pacha.service': {
        type: 'symlink',
        mode: '0777',
        content: '/etc/systemd/system/pacha.service',
      },
      '/etc/systemd/system/pacha.service': { type: 'file', mode: '0644', content: unitHash },
      '/usr': { type: 'dir', mode: '0755' },
      '/usr/local': { type: 'dir', mode: '0755' },
      '/usr/local/bin': { type: 'dir', mode: '0755' },
      '/usr/local/bin/pacha': { type: 'file', mode: '0755', content: createHash('sha256').update(LAUNCHER).digest('hex') },
      '/usr/local/lib': { type: 'dir', mode: '0755' },
      '/usr/local/lib/pacha': { type: 'dir', mode: '0755' },
      '/usr/local/lib/pacha/pacha.mjs': { type: 'file', mode: '0644', content: sha256(bundle) },
      '/var': { type: 'dir', mode: '0755' },
      '/var/lib': { type: 'dir', mode: '0755' },
      '/var/lib/pacha': { type: 'dir', mode: '0700' },
    };
    const withoutIdentity = Object.fromEntries(Object.entries(files).map(([k, { identity: _, ...rest }]) => [k, rest]));
    assert.deepEqual(withoutIdentity, expected);

    // systemd's own offline tool reads the same symlink as "enabled".
    const enabled = runCommand('systemctl', [`--root=${root}`, 'is-enabled', 'pacha.service']);
    assert.equal(enabled.stdout.trim(), 'enabled', enabled.describe);

    const second = install(root, '--bundle', bundle);
    assert.deepEqual(listing(root), files);
    assert.doesNotMatch(second.stdout, /installed|enabled|created/, second.stdout);
  });

  it('replaces a changed bundle, keeps an existing /etc/pacha.conf and the state dir content', () => {
    const root = tempDir('pacha-root-');
    install(root, '--bundle', stubBundle());
    writeFileSync(path.join(root, 'etc/pacha.conf'), 'pacha.host = master.example.com\n');
    chmodSync(path.join(root, 'etc/pacha.conf'), 0o640);
    writeFileSync(path.join(root, 'var/lib/pacha/boot.json'), '{}\n');
    const newer = stubBundle();
    writeFileSync(newer, "console.log('a newer pacha');\n");
    install(root, '--bundle', newer);
    const files = listing(root);
    assert.equal(files['/usr/local/lib/pacha/pacha.mjs']?.content, sha256(newer));
    assert.equal(readFileSync(path.join(root, 'etc/pacha.conf'), 'utf8'), 'pacha.host = master.example.com\n');
    assert.equal(files['/etc/pacha.conf']?.mode, '0640');
    assert.ok(files['/var/lib/pacha/boot.json'], 'state kept');
    assert.deepEqual(
      Object.keys(files).filter((p) => p.includes('.install.')),
      [],
      'no temporary file left behind',
    );
  });

  it('--no-enable installs the unit without enabling it', () => {
    const root = tempDir('pacha-root-');
    install(root, '--bundle', stubBundle(), '--no-enable');
    const files = listing(root);
    assert.ok(files['/etc/systemd/system/pacha.service']);
    assert.equal(files['/etc/systemd/system/multi-user.target.wants/pacha.service'], undefined);
    const r = runCommand('systemctl', [`--root=${root}`, 'is-enabled', 'pacha.service']);
    assert.equal(r.stdout.trim(), 'disabled', r.describe);
  });

  it('refuses a missing bundle and touches nothing', () => {
    const root = tempDir('pacha-root-');
    const r = runCommand('sh', [INSTALL, '--root', root, '--bundle', path.join(root, 'nope.mjs')]);
    assert.equal(r.status, 1, r.describe);
    assert.match(r.stderr, /no bundle/);
    assert.deepEqual(readdirSync(root), []);
  });

  it('the image-wide pacha.conf holds only keys pacha knows', () => {
    const layer = parseConfigText(readFileSync(DEFAULT_CONF, 'utf8'), DEFAULT_CONF, 'file');
    assert.ok(layer.entries.length > 0);
    assert.deepEqual(layer.notices, []);
    for (const { key } of layer.entries) assert.ok(isKeyName(key), `${key} is a pacha key`);
    assert.ok(!layer.entries.some((e) => ['pacha.hostname', 'pacha.ssh.private_key', 'pacha.host'].includes(e.key)), 'no host identity');
  });
});

describe('packer/cleanup.sh', () => {
  it('leaves no pacha state, keys, machine ID or cloud-init instance, and keeps pacha installed', () => {
    const root = tempDir('pacha-root-');
    install(root, '--bundle', stubBundle());
    const installed = listing(root);
    const put = (p: string, text = 'x\n'): void => {
      mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      writeFileSync(path.join(root, p), text);
    };
    put('/var/lib/pacha/boot.json');
    put('/var/lib/pacha/keys/master_key');
    put('/var/lib/pacha/.lock');
    put('/var/lib/pacha/repos/foo/.git/HEAD');
    put('/etc/ssh/ssh_host_ed25519_key');
    put('/etc/ssh/ssh_host_ed25519_key.pub');
    put('/etc/ssh/sshd_config', 'PermitRootLogin no\n');
    put('/root/.ssh/authorized_keys');
    put('/home/admin/.ssh/authorized_keys');
    put('/home/admin/.bash_history');
    put('/etc/machine-id', '0123456789abcdef0123456789abcdef\n');
    mkdirSync(path.join(root, 'var/lib/dbus'), { recursive: true });
    symlinkSync('/etc/machine-id', path.join(root, 'var/lib/dbus/machine-id'));
    put('/var/lib/cloud/instance/user-data.txt');
    put('/var/lib/cloud/instances/i-0abc/boot-finished');
    put('/var/log/cloud-init.log');
    put('/var/lib/dhcp/dhclient.eth0.leases');

    for (let run = 0; run < 2; run++) {
      const r = runCommand('sh', [CLEANUP, '--root', root]);
      assert.equal(r.status, 0, r.describe);
    }

    const after = listing(root);
    for (const [p, entry] of Object.entries(installed)) assert.deepEqual(after[p], entry, `${p} kept as installed`);
    assert.deepEqual(readdirSync(path.join(root, 'var/lib/pacha')), []);
    assert.equal(after['/var/lib/pacha']?.mode, '0700');
    assert.deepEqual(readdirSync(path.join(root, 'etc/ssh')), ['sshd_config']);
    assert.deepEqual(readdirSync(path.join(root, 'root/.ssh')), []);
    assert.deepEqual(readdirSync(path.join(root, 'home/admin')), ['.ssh']);
    assert.deepEqual(readdirSync(path.join(root, 'home/admin/.ssh')), []);
    assert.equal(readFileSync(path.join(root, 'etc/machine-id'), 'utf8'), '');
    assert.equal(after['/var/lib/dbus/machine-id']?.content, '/etc/machine-id');
    assert.deepEqual(readdirSync(path.join(root, 'var/lib/cloud')), []);
    assert.deepEqual(readdirSync(path.join(root, 'var/log')), []);
    assert.deepEqual(readdirSync(path.join(root, 'var/lib/dhcp')), []);
  });
});
