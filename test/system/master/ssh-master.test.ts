import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { resolveSettings } from '../../../src/config/settings.js';
import { ConfigError, ExitCode, MasterUnreachableError } from '../../../src/errors.js';
import { fingerprint } from '../../../src/master/known-hosts.js';
import { openMaster } from '../../../src/master/open.js';
import { SshMaster, type SshMasterOptions } from '../../../src/master/ssh-master.js';
import { cleanup, freePort, keygen, startSshd, type Sshd } from '../../helpers/sshd.js';
import { openTestSshMaster } from '../../helpers/ssh-master.js';
import { tempDir } from '../../helpers/tmp.js';
import { masterBehaviour, scratchRepository } from './behaviour.js';

let sshd: Sshd;
before(async () => {
  sshd = await startSshd();
});
after(async () => {
  await sshd.stop();
  cleanup(sshd.dir);
});

/** An SshMaster on the test sshd; pinned host key unless overridden. */
function sshMaster(hostsPath: string, overrides: Partial<SshMasterOptions> = {}): Promise<SshMaster> {
  return openTestSshMaster(sshd, hostsPath, overrides);
}

masterBehaviour('ssh master', (hostsPath) => sshMaster(hostsPath));

/** A git push with the master's gitEnv(); returns its exit status and stderr. */
function push(master: SshMaster, repository = 'foo'): { status: number | null; stderr: string } {
  const scratch = scratchRepository({ 'f.txt': 'x\n' });
  const r = spawnSync('git', ['push', '-q', master.repositoryUrl('bar', repository), 'main'], { cwd: scratch, env: master.gitEnv(), encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

function hostsDir(): string {
  const dir = path.join(tempDir('pacha-master-'), 'hosts');
  mkdirSync(dir);
  return dir;
}

function otherHostKey(): string {
  const file = path.join(tempDir(), 'other');
  keygen(file);
  return readFileSync(`${file}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
}

const isHostKeyError = (e: unknown): e is MasterUnreachableError =>
  e instanceof MasterUnreachableError && e.code === 'EHOSTKEY' && e.exitCode === ExitCode.unreachable;

test('a wrong pinned host key is refused by ssh2 (EHOSTKEY, exit 3) and by OpenSSH (git push fails)', async () => {
  const hostsPath = hostsDir();
  // Prepare the repository with a trusting master, so only the host key can make the push fail.
  const good = await sshMaster(hostsPath);
  await good.ensureRepository('bar', 'foo');
  await good.close();
  const master = await sshMaster(hostsPath, { hostKey: otherHostKey() });
  const seen = fingerprint(sshd.hostKey.split(' ')[1]!);
  await assert.rejects(master.listHosts(), (e) => {
    assert.ok(isHostKeyError(e));
    assert.match(e.message, /ssh-ed25519 key SHA256:/);
    assert.ok(e.message.includes(seen), e.message);
    assert.match(e.message, /not the key pacha trusts/);
    assert.match(e.hint ?? '', /pacha\.ssh\.host_key = ssh-ed25519 /);
    return true;
  });
  const result = push(master);
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
  assert.deepEqual(readdirSync(path.join(hostsPath, 'bar', 'foo')), ['.git']);
  await master.close();
});

test('an unknown host (empty known_hosts) is refused by ssh2 and OpenSSH, naming where pacha looked', async () => {
  const hostsPath = hostsDir();
  const knownHosts = path.join(tempDir(), 'known_hosts');
  writeFileSync(knownHosts, '');
  const master = await sshMaster(hostsPath, { hostKey: undefined, knownHosts });
  await assert.rejects(master.addHost('bar'), (e) => {
    assert.ok(isHostKeyError(e));
    assert.match(e.message, /unknown: pacha looked in pacha\.ssh\.known_hosts/);
    assert.ok(e.message.includes(knownHosts));
    return true;
  });
  mkdirSync(path.join(hostsPath, 'bar', 'foo'), { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', path.join(hostsPath, 'bar', 'foo')]);
  const result = push(master);
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /Host key verification failed/);
  assert.deepEqual(readdirSync(hostsPath), ['bar']);
  await master.close();
});

test('a known_hosts file hashed by a real `ssh-keygen -H` is honoured by ssh2 and OpenSSH', async () => {
  const hostsPath = hostsDir();
  const knownHosts = path.join(tempDir(), 'known_hosts');
  writeFileSync(knownHosts, readFileSync(sshd.knownHosts));
  execFileSync('ssh-keygen', ['-q', '-H', '-f', knownHosts], { stdio: 'ignore' });
  assert.match(readFileSync(knownHosts, 'utf8'), /^\|1\|/);
  const master = await sshMaster(hostsPath, { hostKey: undefined, knownHosts });
  assert.equal(await master.ensureRepository('bar', 'foo'), 'created');
  assert.equal(push(master).status, 0);
  assert.equal(readFileSync(path.join(hostsPath, 'bar', 'foo', 'f.txt'), 'utf8'), 'x\n');
  await master.close();
});

test('an unreachable port is MasterUnreachableError (exit 3) naming user@host:port; nothing is written', async () => {
  const port = await freePort();
  const hostsPath = hostsDir();
  const master = await sshMaster(hostsPath, { port });
  await assert.rejects(master.addHost('bar'), (e) => {
    assert.ok(e instanceof MasterUnreachableError);
    assert.equal(e.exitCode, 3);
    assert.equal(e.code, 'EUNREACHABLE');
    assert.ok(e.message.includes(`${sshd.user}@127.0.0.1:${port}`), e.message);
    assert.match(e.message, /refused the connection/);
    return true;
  });
  assert.deepEqual(readdirSync(hostsPath), []);
  await master.close();
});

test('a key the master does not accept is EAUTH naming the key file', async () => {
  const key = path.join(tempDir(), 'stranger');
  keygen(key);
  const master = await sshMaster(hostsDir(), { keyFile: key });
  await assert.rejects(master.listHosts(), (e) => {
    assert.ok(e instanceof MasterUnreachableError);
    assert.equal(e.code, 'EAUTH');
    assert.equal(e.exitCode, 3);
    assert.ok(e.message.includes(key), e.message);
    return true;
  });
  await master.close();
});

test('a pacha.ssh.key that does not exist is a ConfigError naming it', async () => {
  const missing = path.join(tempDir(), 'nope');
  const master = await sshMaster(hostsDir(), { keyFile: missing });
  await assert.rejects(master.listHosts(), (e) => e instanceof ConfigError && e.message.includes(missing));
});

test('pinned key: known_hosts written under <state>/ssh (dir 0700, file 0600); pushes reuse one control connection', async () => {
  const hostsPath = hostsDir();
  const stateDir = path.join(tempDir('pacha state %h '), 'state');
  const master = await sshMaster(hostsPath, { stateDir });
  const sshDir = path.join(stateDir, 'ssh');
  assert.equal(statSync(sshDir).mode & 0o777, 0o700);
  assert.equal(statSync(path.join(sshDir, 'known_hosts')).mode & 0o777, 0o600);
  assert.equal(readFileSync(path.join(sshDir, 'known_hosts'), 'utf8'), `[127.0.0.1]:${sshd.port} ${sshd.hostKey}\n`);
  await master.ensureRepository('bar', 'foo');
  assert.equal(push(master).status, 0);
  const sockets = readdirSync(sshDir).filter((n) => n.startsWith('cm-'));
  assert.equal(sockets.length, 1, 'one ControlMaster socket');
  assert.ok(statSync(path.join(sshDir, sockets[0]!)).isSocket());
  // The OpenSSH command quoted for a state dir with spaces and '%': a second push through it works.
  await master.ensureRepository('bar', 'baz');
  assert.equal(push(master, 'baz').status, 0);
  assert.ok(existsSync(path.join(hostsPath, 'bar', 'baz', 'f.txt')));
  // close() stops the shared connection: its socket goes away (no process outlives pacha by 60 s).
  await master.close();
  assert.deepEqual(readdirSync(sshDir).filter((n) => n.startsWith('cm-')), []);
});

test('the ssh2 connection is reused and comes back after the master restarts', async () => {
  const master = await sshMaster(hostsDir());
  await master.addHost('a');
  assert.deepEqual(await master.listHosts(), ['a']);
  await sshd.stop();
  await sshd.start();
  // the dropped connection is noticed by the first request or by its close event; a retry redials
  const again = await master.listHosts().catch(() => master.listHosts());
  assert.deepEqual(again, ['a']);
  await master.close();
});

test('openMaster: any other pacha.host is an SSH master with ssh:// URLs (IPv6 in brackets)', async () => {
  const hostsPath = hostsDir();
  const entries = [
    ['pacha.host', '::1'],
    ['pacha.ssh.port', '2222'],
    ['pacha.ssh.user', 'bar_user'],
    ['pacha.hosts.path', '/pacha/hosts'],
    ['pacha.ssh.host_key', sshd.hostKey],
  ].map(([key, raw]) => ({ key: key!, raw: raw!, origin: 'test' }));
  const master = await openMaster(resolveSettings([{ source: 'test', entries }]), path.join(tempDir(), 'state'));
  assert.ok(master instanceof SshMaster);
  assert.equal(master.label, 'bar_user@::1:2222');
  assert.equal(master.repositoryUrl('bar', 'foo'), 'ssh://bar_user@[::1]:2222/pacha/hosts/bar/foo');
  assert.ok(hostsPath);
  await master.close();
});
