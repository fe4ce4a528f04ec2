import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MasterError } from '../../../src/errors.js';
import { chooseIdentity, describeIdentity } from '../../../src/master/client-identity.js';
import { hostDir, hostListing, hostNames, hooksDir, repositoryDir, sortNames, typeFromMode } from '../../../src/master/layout.js';
import { preferredHostKeyAlgorithms } from '../../../src/master/ssh-connect.js';
import { urlHost } from '../../../src/master/ssh-master.js';

test('layout paths, and names that could escape are refused', () => {
  assert.equal(hostDir('/pacha/hosts', 'bar'), '/pacha/hosts/bar');
  assert.equal(repositoryDir('/pacha/hosts', 'bar', 'foo'), '/pacha/hosts/bar/foo');
  assert.equal(hooksDir('/pacha/hosts', 'bar', 'pre'), '/pacha/hosts/bar/pacha_pre');
  assert.equal(hooksDir('/pacha/hosts', 'bar', 'post'), '/pacha/hosts/bar/pacha_post');
  for (const bad of ['', '.', '..', 'a/b', '../x', 'a\nb']) {
    assert.throws(() => repositoryDir('/h', 'bar', bad), (e) => e instanceof MasterError && e.code === 'EBADNAME', JSON.stringify(bad));
    assert.throws(() => hostDir('/h', bad), (e) => e instanceof MasterError && e.code === 'EBADNAME', JSON.stringify(bad));
  }
});

test('C-locale order is byte order; types come from st_mode', () => {
  assert.deepEqual(sortNames(['a', '10-a', 'B', '02-b', 'é', 'Z']), ['02-b', '10-a', 'B', 'Z', 'a', 'é']);
  assert.equal(typeFromMode(0o100755), 'file');
  assert.equal(typeFromMode(0o040755), 'directory');
  assert.equal(typeFromMode(0o120777), 'symlink');
  assert.equal(typeFromMode(0o010644), 'other');
});

test('a repository is a real directory with .git that is not a hook dir; hosts are real, visible directories', () => {
  const listing = hostListing('bar', [
    { name: 'foo', type: 'directory', hasGit: true },
    { name: 'plain', type: 'directory', hasGit: false },
    { name: 'link', type: 'symlink' },
    { name: 'pacha_pre', type: 'directory', hasGit: true },
    { name: 'pacha_post', type: 'file' },
    { name: 'etc', type: 'directory', hasGit: true },
  ]);
  assert.deepEqual(listing, { host: 'bar', repositories: ['etc', 'foo'], hasPreHooks: true, hasPostHooks: false });
  assert.deepEqual(hostNames([
    { name: 'b', type: 'directory' },
    { name: 'a', type: 'directory' },
    { name: '.git', type: 'directory' },
    { name: 'f', type: 'file' },
    { name: 'l', type: 'symlink' },
  ]), ['a', 'b']);
});

test('identity: pacha.ssh.key alone; else the first default key that exists and the agent', () => {
  assert.deepEqual(chooseIdentity('/k', ['/root/.ssh/id_ed25519'], '/agent'), { keyFile: '/k', explicit: true });
  assert.deepEqual(chooseIdentity(undefined, ['/root/.ssh/id_ecdsa', '/root/.ssh/id_rsa'], '/agent'), {
    keyFile: '/root/.ssh/id_ecdsa',
    explicit: false,
    agentSocket: '/agent',
  });
  assert.equal(describeIdentity(chooseIdentity(undefined, [], ''), '/root'), 'no key (none of /root/.ssh/id_ed25519, /root/.ssh/id_ecdsa, /root/.ssh/id_rsa exists, and no agent)');
});

test('ssh2 is offered the host key algorithms of the known keys first; IPv6 hosts go in brackets in URLs', () => {
  assert.deepEqual(preferredHostKeyAlgorithms(['ssh-rsa', 'ssh-ed25519', 'sk-ssh-ed25519@openssh.com']), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
  assert.equal(urlHost('::1'), '[::1]');
  assert.equal(urlHost('master.example.com'), 'master.example.com');
});
