// The gate for real: one master (a real sshd with no SFTP, authorized_keys holding only
// enrolled keys), two enrolled hosts, alpha and bravo. Each works through the gate; alpha's key,
// used as an attacker would, reaches nothing of bravo's.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { Client } from 'ssh2';
import { startDaemon } from '../daemon/helpers/daemon-process.js';
import { readIn, until } from '../daemon/helpers/master-view.js';
import { makeInstance, configBlock, indent } from '../../helpers/boot-instance.js';
import { snapshot } from '../../helpers/tree.js';
import { addEnrolledHost, makeWorld, type World } from '../../helpers/world.js';

const NOBODY = 65534;

let alpha: World & { key?: string };
let bravo: World & { key: string };
let alphaKey: string;
let alphaEtc: string;
let bravoEtc: string;

/** `ssh` (OpenSSH) with a host's key, as an attacker holding it would run it. */
function ssh(key: string, command: string[] | undefined, extra: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    'ssh',
    [
      '-F', '/dev/null', '-T', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${alpha.sshd!.knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
      '-p', String(alpha.sshd!.port), ...extra, `${alpha.sshd!.user}@127.0.0.1`, ...(command ?? []),
    ],
    { encoding: 'utf8', input: '', timeout: 20_000 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** git with a host's key over OpenSSH (the attacker's own git, not pacha's). */
function gitWith(key: string, args: string[], cwd = '/'): { status: number | null; stderr: string } {
  const r = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      GIT_SSH_COMMAND: `ssh -F /dev/null -i ${key} -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${alpha.sshd!.knownHosts}`,
    },
  });
  return { status: r.status, stderr: r.stderr };
}

const url = (relative: string): string => `ssh://${alpha.sshd!.user}@127.0.0.1:${alpha.sshd!.port}${alpha.masterDir}/${relative}`;

/** Files and directories under dir that a user other than the owner could read, enter or write (symlinks aside). */
function notPrivate(dir: string): string[] {
  return execFileSync('find', [dir, '!', '-type', 'l', '-perm', '/077'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

before(async () => {
  alpha = await makeWorld({ ssh: true, gate: true, host: 'alpha' });
  alphaKey = alpha.sshd!.clientKey;
  bravo = await addEnrolledHost(alpha, 'bravo');
  // A master whose hosts_path is readable by all, as /pacha/hosts usually is: privacy must come from pacha.
  chmodSync(alpha.dir, 0o755);
  chmodSync(alpha.masterDir, 0o755);
  for (const [world, dir] of [
    [alpha, 'etc'],
    [bravo, 'etc'],
  ] as const) {
    const etc = path.join(world.root, dir);
    mkdirSync(etc, { recursive: true });
    writeFileSync(path.join(etc, 'secret.conf'), `password = ${world === alpha ? 'a' : 'b'}-only\n`, { mode: 0o600 });
    writeFileSync(path.join(etc, 'app.conf'), 'listen = 80\n');
  }
  alphaEtc = path.join(alpha.root, 'etc');
  bravoEtc = path.join(bravo.root, 'etc');
});

describe('two enrolled hosts on one master', { concurrency: false }, () => {
  test('enrolment wrote one restricted line per host, and nothing else', () => {
    const lines = readFileSync(path.join(alpha.sshd!.dir, 'authorized_keys'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 2);
    for (const [line, host] of [[lines[0]!, 'alpha'], [lines[1]!, 'bravo']] as const) {
      assert.match(line, new RegExp(`^restrict,command="${process.execPath.replace(/[/.]/g, '\\$&')} \\S+main\\.js -c \\S+master\\.conf serve ${host}" ssh-ed25519 \\S+ pacha:${host}$`));
    }
    assert.equal(lstatSync(path.join(alpha.masterDir, 'bravo')).mode & 0o777, 0o700);
  });

  test('each host watches and pushes through the gate; the master keeps the copies private', async () => {
    for (const [world, etc] of [
      [alpha, alphaEtc],
      [bravo, bravoEtc],
    ] as const) {
      const r = await world.pacha(['watch', etc]);
      assert.equal(r.code, 0, r.stderr);
    }
    const bravoSecret = path.join(alpha.masterDir, 'bravo/etc/secret.conf');
    assert.equal(readFileSync(bravoSecret, 'utf8'), 'password = b-only\n');
    assert.deepEqual(notPrivate(path.join(alpha.masterDir, 'alpha')), []);
    assert.deepEqual(notPrivate(path.join(alpha.masterDir, 'bravo')), []);
    // Another local user of the master reads nothing of a host's copy (and the check can see a readable file).
    const control = path.join(alpha.masterDir, 'control.txt');
    writeFileSync(control, 'readable\n', { mode: 0o644 });
    assert.equal(spawnSync('cat', [control], { uid: NOBODY, gid: NOBODY }).status, 0);
    for (const file of [bravoSecret, path.join(alpha.masterDir, 'bravo/etc/app.conf'), path.join(alpha.masterDir, 'bravo/etc/.git/config')]) {
      const r = spawnSync('cat', [file], { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
      assert.notEqual(r.status, 0, file);
      assert.match(r.stderr, /Permission denied/);
    }
    rmSync(control);
    const log = readFileSync(path.join(alpha.dir, 'serve.log'), 'utf8');
    assert.match(log, /pacha serve alpha: receive-pack exit 0/);
    assert.match(log, /pacha serve bravo: ensure-repository exit 0/);
  });

  test('the daemon pushes through the gate', async () => {
    const daemon = startDaemon(alpha.config);
    try {
      writeFileSync(path.join(alphaEtc, 'app.conf'), 'listen = 8080\n');
      // The copy may be missing for an instant: git's checkout replaces a file by unlink and create.
      const copy = () => readIn(path.join(alpha.masterDir, 'alpha/etc'), 'app.conf');
      await until('the edit on the master', () => copy() === 'listen = 8080\n').catch(() => undefined);
      assert.equal(copy(), 'listen = 8080\n', daemon.stderr());
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
  });

  describe("alpha's key, used as an attacker would", { concurrency: false }, () => {
    let bravoBefore: ReturnType<typeof snapshot>;
    let alphaBefore: string[];
    before(() => {
      bravoBefore = snapshot(path.join(alpha.masterDir, 'bravo'));
      alphaBefore = readdirSync(path.join(alpha.masterDir, 'alpha')).sort();
    });

    test("a shell command that reads bravo's secret is refused", () => {
      const r = ssh(alphaKey, ['cat', path.join(alpha.masterDir, 'bravo/etc/secret.conf')]);
      assert.equal(r.status, 77);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /pacha serve: refused: unknown command "cat"/);
    });

    test('an interactive session, SFTP and port forwarding are refused', async () => {
      const r = ssh(alphaKey, undefined);
      assert.equal(r.status, 77);
      assert.match(r.stderr, /refused: interactive sessions are refused/);
      const client = new Client();
      await new Promise<void>((resolve, reject) => {
        client.once('ready', () => resolve()).once('error', reject);
        client.connect({ host: '127.0.0.1', port: alpha.sshd!.port, username: alpha.sshd!.user, privateKey: readFileSync(alphaKey) });
      });
      try {
        const forwarded = await new Promise<unknown>((resolve) => client.forwardOut('127.0.0.1', 1, '127.0.0.1', alpha.sshd!.port, (error) => resolve(error)));
        assert.ok(forwarded instanceof Error, 'port forwarding must fail');
        const sftp = await new Promise<unknown>((resolve) => client.sftp((error, s) => resolve(error ?? s)));
        if (!(sftp instanceof Error)) {
          // sshd ran the forced command for the subsystem: the gate refused it, so nothing answers SFTP.
          const listed = await new Promise<unknown>((resolve) => (sftp as import('ssh2').SFTPWrapper).readdir(alpha.masterDir, (e, l) => resolve(e ?? l)));
          assert.ok(listed instanceof Error, 'no SFTP listing');
        }
      } finally {
        client.end();
      }
    });

    test("cloning bravo's repository, plainly or through alpha/../bravo, is refused", () => {
      for (const target of ['bravo/etc', 'alpha/../bravo/etc', 'alpha/etc/../../bravo/etc', 'bravo']) {
        const out = path.join(alpha.dir, `stolen-${target.replace(/\W/g, '_')}`);
        const r = gitWith(alphaKey, ['clone', '-q', url(target), out]);
        assert.notEqual(r.status, 0, target);
        assert.match(r.stderr, /pacha serve: refused: /, target);
        assert.equal(existsSync(path.join(out, 'secret.conf')), false);
      }
    });

    test("pushing a setuid shell into bravo's repository is refused", () => {
      const work = path.join(alpha.dir, 'evil');
      assert.equal(gitWith(alphaKey, ['clone', '-q', url('alpha/etc'), work]).status, 0, 'alpha may clone its own');
      writeFileSync(path.join(work, 'rootshell'), '#!/bin/sh\nexec /bin/sh\n', { mode: 0o4755 });
      execFileSync('git', ['-C', work, 'add', '-A']);
      execFileSync('git', ['-C', work, '-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '-qm', 'evil']);
      for (const target of ['bravo/etc', 'alpha/../bravo/etc']) {
        const r = gitWith(alphaKey, ['push', '-q', url(target), 'HEAD:main'], work);
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /refused/);
      }
    });

    test("creating or reading bravo's hooks, listing bravo, making a hook dir a repository: all refused", () => {
      const refusals: Array<[string, RegExp]> = [
        ['pacha-gate ensure-repository bravo pacha_pre', /enrolled for host 'alpha'; it may not reach host "bravo"/],
        ['pacha-gate add-host bravo', /may not reach host "bravo"/],
        ['pacha-gate describe bravo', /may not reach host "bravo"/],
        ['pacha-gate hooks bravo pre', /may not reach host "bravo"/],
        ['pacha-gate ensure-repository alpha pacha_pre', /is a hook directory/],
        ['pacha-gate ensure-repository alpha ..', /is not a repository name/],
        [`git-upload-pack '${alpha.masterDir}/bravo/etc'`, /may not reach host "bravo"/],
        [`git-receive-pack '${alpha.masterDir}/alpha/../bravo/etc'`, /is not a repository path/],
        [`git-upload-pack '/etc'`, /is outside/],
        ['pacha-gate hooks alpha pre; cat /etc/shadow', /argument|phase|malformed|not/],
        ['sh -c id', /unknown command "sh"/],
        ['scp -t /tmp', /unknown command "scp"/],
      ];
      for (const [command, reason] of refusals) {
        const r = ssh(alphaKey, [command]);
        assert.equal(r.status, 77, command);
        assert.match(r.stderr, reason, command);
      }
      const hosts = ssh(alphaKey, ['pacha-gate hosts']);
      assert.equal(hosts.status, 0);
      assert.deepEqual(JSON.parse(hosts.stdout), { hosts: ['alpha'] });
    });

    test('a symlink under alpha that leads to bravo is never followed', () => {
      // Made by hand on the master (a host cannot make one there): the gate still refuses it.
      symlinkSync(path.join(alpha.masterDir, 'bravo/etc'), path.join(alpha.masterDir, 'alpha/evil'));
      try {
        const r = ssh(alphaKey, [`git-upload-pack '${alpha.masterDir}/alpha/evil'`]);
        assert.equal(r.status, 77);
        assert.match(r.stderr, /is a symlink; the gate never follows one/);
        const ensured = ssh(alphaKey, ['pacha-gate ensure-repository alpha evil']);
        assert.equal(ensured.status, 77);
        assert.match(ensured.stderr, /is a symlink; the gate never follows one/);
      } finally {
        rmSync(path.join(alpha.masterDir, 'alpha/evil'));
      }
    });

    test('after all of it, nothing of bravo changed on the master, and every refusal was logged', () => {
      assert.deepEqual(snapshot(path.join(alpha.masterDir, 'bravo')), bravoBefore);
      assert.deepEqual(readdirSync(path.join(alpha.masterDir, 'alpha')).sort(), alphaBefore);
      assert.equal(existsSync(path.join(alpha.masterDir, 'bravo/pacha_pre')), false);
      const log = readFileSync(path.join(alpha.dir, 'serve.log'), 'utf8');
      assert.match(log, /pacha serve alpha: refused: unknown command "cat": this key only serves pacha \(command "cat /);
      assert.match(log, /pacha serve alpha: refused: interactive sessions are refused/);
    });
  });

  test('bravo rebuilds exactly through the gate, and nothing of alpha runs or lands there', async () => {
    const before_ = snapshot(bravoEtc);
    rmSync(bravoEtc, { recursive: true, force: true });
    rmSync(bravo.stateDir, { recursive: true, force: true });
    const r = await bravo.pacha(['rebuild', '--yes']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.deepEqual(snapshot(bravoEtc), before_);
    assert.equal(existsSync(path.join(bravoEtc, 'rootshell')), false);
  });

  test('bravo boots through the gate from user data alone', async () => {
    rmSync(bravoEtc, { recursive: true, force: true });
    const instance = makeInstance({ sshd: bravo.sshd!, hostsPath: bravo.masterDir, env: { PACHA_IMDS: 'false' } });
    const key = readFileSync(bravo.key, 'utf8');
    instance.writeUserData(`hostname: bravo\n${configBlock(instance.masterLines)}\nssh_key: |\n${indent(key, 2)}\nmaster_host_key: '${bravo.sshd!.hostKey}'`);
    const r = await instance.boot(['--no-watch']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(readFileSync(path.join(bravoEtc, 'secret.conf'), 'utf8'), 'password = b-only\n');
    assert.equal(lstatSync(path.join(bravoEtc, 'secret.conf')).mode & 0o777, 0o600);
    assert.equal(instance.report().decision?.action, 'rebuild');
  });

  test("a host that names itself as another gets the gate's refusal in pacha's message", async () => {
    const dir = path.join(bravo.root, 'charlie-etc');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'x.conf'), 'x\n');
    const config = readFileSync(bravo.config, 'utf8');
    writeFileSync(bravo.config, config.replace('pacha.hostname = bravo', 'pacha.hostname = charlie'));
    try {
      const hosts = await bravo.pacha(['hosts']);
      assert.equal(hosts.code, 0, hosts.stderr);
      assert.match(hosts.stdout, /^bravo: etc$/m, 'hosts lists only the host the key is enrolled for');
      const watched = await bravo.pacha(['watch', dir]);
      assert.notEqual(watched.code, 0, watched.stdout);
      assert.match(watched.stderr, /refused: this key is enrolled for host 'bravo'; it may not reach host "charlie"/);
      assert.doesNotMatch(watched.stderr, /unexpected error/);
    } finally {
      writeFileSync(bravo.config, config);
    }
    assert.equal(existsSync(path.join(alpha.masterDir, 'charlie')), false);
  });
});
