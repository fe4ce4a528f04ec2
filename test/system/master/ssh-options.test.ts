import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { ConfigError } from '../../../src/errors.js';
import { hostKeyPolicy } from '../../../src/master/host-key-sources.js';
import { shellCommand, shellQuote } from '../../../src/master/shell-quote.js';
import { gitSshCommand, knownHostsFileFor, pinnedKnownHostsText, sshArgs, sshFileOption } from '../../../src/master/ssh-options.js';

/** What a real sh makes of a command line: one argument per line (NUL-separated). */
function shWords(line: string): string[] {
  return execFileSync('sh', ['-c', `printf '%s\\0' ${line}`]).toString().split('\0').slice(0, -1);
}

test('shellQuote: a real sh gives back exactly the original words', () => {
  const words = ['plain', 'with space', "it's", '$HOME', '`id`', '"dq"', 'a\\b', 'semi;colon', 'new\nline', '*', '', '-o', 'ünïcode', "'"];
  assert.deepEqual(shWords(shellCommand(words)), words);
  assert.equal(shellQuote('/abs/path-1.2'), '/abs/path-1.2');
  assert.equal(shellQuote("a'b"), `'a'\\''b'`);
});

test('sshFileOption doubles % and double-quotes blanks; refuses what OpenSSH cannot take', () => {
  assert.equal(sshFileOption('/var/lib/pacha/ssh/known_hosts'), '/var/lib/pacha/ssh/known_hosts');
  assert.equal(sshFileOption('/a b/%h'), '"/a b/%%h"');
  assert.throws(() => sshFileOption('/a"b'), ConfigError);
  assert.throws(() => sshFileOption('/a\nb'), ConfigError);
});

test('sshArgs: batch mode, strict keys, timeouts, connection sharing; key only when configured', () => {
  const args = sshArgs({ stateDir: '/var/lib/pacha', knownHostsFile: '/var/lib/pacha/ssh/known_hosts', ignoreGlobalKnownHosts: true, keyFile: '/k/id' });
  assert.deepEqual(args, [
    'ssh',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'UserKnownHostsFile=/var/lib/pacha/ssh/known_hosts',
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'UpdateHostKeys=no',
    '-o', 'ConnectTimeout=10',
    '-o', 'ServerAliveInterval=15',
    '-o', 'ControlMaster=auto',
    '-o', 'ControlPath=/var/lib/pacha/ssh/cm-%C',
    '-o', 'ControlPersist=60',
    '-i', '/k/id',
    '-o', 'IdentitiesOnly=yes',
  ]);
  const system = sshArgs({ stateDir: '/s', knownHostsFile: '/root/.ssh/known_hosts', ignoreGlobalKnownHosts: false });
  assert.ok(!system.includes('-i') && !system.includes('GlobalKnownHostsFile=/dev/null'));
});

test('gitSshCommand survives the shell git runs it with, even for a state dir with blanks and quotes', () => {
  const options = { stateDir: "/tmp/it's a dir", knownHostsFile: "/tmp/it's a dir/ssh/known_hosts", ignoreGlobalKnownHosts: true, keyFile: '/k/my key' };
  assert.deepEqual(shWords(gitSshCommand(options)), sshArgs(options));
  assert.ok(shWords(gitSshCommand(options)).includes(`ControlPath="/tmp/it's a dir/ssh/cm-"%C`));
});

test('host key policy: pinned key, then pacha.ssh.known_hosts, then the system files; the OpenSSH file for each', () => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
  assert.deepEqual(hostKeyPolicy({ hostKey: key, knownHosts: '/kh' }, '/root'), { kind: 'pinned', key });
  assert.deepEqual(hostKeyPolicy({ knownHosts: '/kh' }, '/root'), { kind: 'file', path: '/kh' });
  const system = hostKeyPolicy({}, '/root');
  assert.deepEqual(system, { kind: 'system', userFile: '/root/.ssh/known_hosts', globalFile: '/etc/ssh/ssh_known_hosts' });
  assert.deepEqual(knownHostsFileFor(system, '/s'), { knownHostsFile: '/root/.ssh/known_hosts', ignoreGlobalKnownHosts: false });
  assert.deepEqual(knownHostsFileFor({ kind: 'pinned', key }, '/s'), { knownHostsFile: '/s/ssh/known_hosts', ignoreGlobalKnownHosts: true });
  assert.throws(() => hostKeyPolicy({ hostKey: 'ssh-ed25519' }, '/root'), (e) => e instanceof ConfigError && e.message.includes('pacha.ssh.host_key'));
  assert.equal(pinnedKnownHostsText('master', 22, `${key} root@master`), `master ${key}\n`);
  assert.equal(pinnedKnownHostsText('::1', 2222, key), `[::1]:2222 ${key}\n`);
});
