import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, OperationError } from '../../../src/errors.js';
import { privateKeyPath, writeKnownHosts, writePrivateKey } from '../../../src/sources/key-material.js';
import { keygen } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tmp.js';

const keys = tempDir('pacha-keys-');
keygen(path.join(keys, 'ed25519'));
execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', path.join(keys, 'rsa_pem')]);
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'a passphrase', '-f', path.join(keys, 'encrypted')]);
const read = (name: string): string => readFileSync(path.join(keys, name), 'utf8');
const mode = (file: string): number => statSync(file).mode & 0o777;

function rejectsWith(code: string, ...mention: string[]) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.exitCode, 2);
    for (const m of mention) assert.ok(error.message.includes(m), `'${error.message}' mentions ${m}`);
    return true;
  };
}

describe('private key', () => {
  test('written as <state>/ssh/id_master, 0600 in a 0700 dir, with its final newline, usable by OpenSSH', async () => {
    const state = path.join(tempDir(), 'state');
    // As settings hand it over: trimmed, and with CRLF line ends as a Windows editor leaves them.
    const file = await writePrivateKey(state, read('ed25519').trim().replace(/\n/g, '\r\n'), 'user-data:/ud');
    assert.equal(file, privateKeyPath(state));
    assert.equal(file, path.join(state, 'ssh', 'id_master'));
    assert.equal(mode(file), 0o600);
    assert.equal(mode(path.join(state, 'ssh')), 0o700);
    assert.equal(mode(state), 0o700);
    assert.equal(readFileSync(file, 'utf8'), read('ed25519'));
    // The real OpenSSH reads it: its public half matches the original's.
    const publicHalf = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
    assert.equal(publicHalf.split(' ').slice(0, 2).join(' '), read('ed25519.pub').trim().split(' ').slice(0, 2).join(' '));
  });

  test('a PEM RSA key is accepted; rewriting is atomic and leaves no temporary file', async () => {
    const state = tempDir();
    await writePrivateKey(state, read('ed25519'), 'first');
    const file = await writePrivateKey(state, read('rsa_pem'), 'ssm:/pacha/prod/pacha.ssh.private_key');
    assert.equal(readFileSync(file, 'utf8'), read('rsa_pem'));
    assert.deepEqual(readdirSync(path.join(state, 'ssh')), ['id_master']);
  });

  test('not a key, an encrypted key, a public key: exit 2 naming the source, never the content; nothing written', async () => {
    const state = tempDir();
    const garbage = '-----BEGIN OPENSSH PRIVATE KEY-----\nTOPSECRETMATERIAL\n-----END OPENSSH PRIVATE KEY-----';
    await assert.rejects(writePrivateKey(state, garbage, 'ssm:/pacha/prod/pacha.ssh.private_key'), (error: unknown) => {
      rejectsWith('EBADKEY', 'the private key from ssm:/pacha/prod/pacha.ssh.private_key is not a valid OpenSSH/PEM private key')(error);
      const e = error as ConfigError;
      assert.ok(!`${e.message} ${e.hint} ${JSON.stringify(e.toJSON())}`.includes('TOPSECRET'));
      return true;
    });
    await assert.rejects(writePrivateKey(state, read('encrypted'), 'user-data:/ud'), rejectsWith('EBADKEY', 'user-data:/ud', 'encrypted'));
    await assert.rejects(writePrivateKey(state, read('ed25519.pub'), 'user-data:/ud'), rejectsWith('EBADKEY', 'public key'));
    assert.deepEqual(readdirSync(state), []);
  });

  test('a symlink in place of <state>/ssh is refused', async () => {
    const state = tempDir();
    const elsewhere = tempDir();
    symlinkSync(elsewhere, path.join(state, 'ssh'));
    await assert.rejects(writePrivateKey(state, read('ed25519'), 'x'), (e: unknown) => e instanceof OperationError && e.code === 'ESTATEDIR');
    assert.deepEqual(readdirSync(elsewhere), []);
  });
});

describe('pinned master host key', () => {
  const hostKey = read('ed25519.pub').trim(); // "ssh-ed25519 AAAA… pacha-test": the comment is dropped
  const [type, blob] = hostKey.split(' ');

  test('[host]:port on another port, found there by the real ssh-keygen -F', async () => {
    const state = tempDir();
    const file = await writeKnownHosts(state, { host: 'master.example.com', port: 2222, hostKey, source: 'user-data:/ud' });
    assert.equal(file, path.join(state, 'ssh', 'known_hosts'));
    assert.equal(readFileSync(file, 'utf8'), `[master.example.com]:2222 ${type} ${blob}\n`);
    assert.equal(mode(file), 0o600);
    execFileSync('ssh-keygen', ['-F', '[master.example.com]:2222', '-f', file]);
    assert.throws(() => execFileSync('ssh-keygen', ['-F', 'master.example.com', '-f', file], { stdio: 'ignore' }));
  });

  test('the bare host on port 22', async () => {
    const state = tempDir();
    mkdirSync(path.join(state, 'ssh'), { mode: 0o755 });
    const file = await writeKnownHosts(state, { host: 'master.example.com', port: 22, hostKey, source: 'x' });
    assert.equal(readFileSync(file, 'utf8'), `master.example.com ${type} ${blob}\n`);
    assert.equal(mode(path.join(state, 'ssh')), 0o700, 'an existing ssh dir is made private');
    execFileSync('ssh-keygen', ['-F', 'master.example.com', '-f', file]);
  });

  test('not a public key: exit 2 naming the source', async () => {
    await assert.rejects(
      writeKnownHosts(tempDir(), { host: 'm', port: 22, hostKey: 'ssh-ed25519 bm90IGEga2V5', source: 'ssm:/pacha/prod/pacha.ssh.host_key' }),
      rejectsWith('EBADKEY', 'ssm:/pacha/prod/pacha.ssh.host_key'),
    );
  });
});
