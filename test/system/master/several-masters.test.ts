// Several masters (pacha.host as a list), two real sshd processes: every commit reaches both;
// one master stopped during 20 edits holds up nothing (the other gets each edit as it comes)
// and catches up when it is back; status shows each master's acknowledged commit; a rebuild
// takes each path from the master with the newest history, even when it is not the first.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CLI, runPacha } from '../../helpers/cli.js';
import { startSshd, type Sshd } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tmp.js';
import { readIn } from '../daemon/helpers/master-view.js';

let a: Sshd;
let b: Sshd;
let dir: string;
let app: string;
let dirA: string;
let dirB: string;
let config: string;
let state: string;
let knownHosts: string;

const head = (repo: string): string | undefined => {
  try {
    return execFileSync('git', ['-C', repo, 'rev-parse', '-q', '--verify', 'main'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
};
const localHead = (): string => execFileSync('git', ['--git-dir', path.join(state, 'repos', 'app.git'), 'rev-parse', 'main'], { encoding: 'utf8' }).trim();
const pacha = (args: string[], cfg = config) => runPacha(['-c', cfg, ...args]);

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(100);
  }
}

function writeConfig(file: string, hosts: string, stateDir: string): void {
  writeFileSync(
    file,
    [
      'pacha.hostname = bar',
      `pacha.host = ${hosts}`,
      `pacha.hosts.path = ${dirA}`,
      `pacha.state.path = ${stateDir}`,
      `pacha.ssh.key = ${a.clientKey}`,
      `pacha.ssh.known_hosts = ${knownHosts}`,
      'pacha.push.delay = 50',
      'pacha.push.max_delay = 200',
      'pacha.hooks.timeout = 20',
      '',
    ].join('\n'),
  );
}

before(async () => {
  [a, b] = await Promise.all([startSshd(), startSshd()]);
  dir = tempDir('pacha-masters-');
  dirA = path.join(dir, 'master-a');
  dirB = path.join(dir, 'master-b');
  mkdirSync(dirA);
  mkdirSync(dirB);
  // One host key pair for the host, enrolled on both; one known_hosts with both masters.
  writeFileSync(path.join(b.dir, 'authorized_keys'), readFileSync(`${a.clientKey}.pub`));
  knownHosts = path.join(dir, 'known_hosts');
  writeFileSync(knownHosts, readFileSync(a.knownHosts, 'utf8') + readFileSync(b.knownHosts, 'utf8'));
  app = path.join(dir, 'host', 'etc', 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(path.join(app, 'a.conf'), 'edit = 0\n');
  state = path.join(dir, 'state');
  config = path.join(dir, 'pacha.conf');
  writeConfig(config, `ssh://${a.user}@127.0.0.1:${a.port}${dirA}, ssh://${b.user}@127.0.0.1:${b.port}${dirB}`, state);
});

describe('two masters', { concurrency: false }, () => {
  const repoA = (): string => path.join(dirA, 'bar', 'app');
  const repoB = (): string => path.join(dirB, 'bar', 'app');

  test('pacha watch sends its first commit to both; pacha push sends every commit to both; status shows what each acknowledged', async () => {
    const watched = await pacha(['--json', 'watch', app]);
    assert.equal(watched.code, 0, watched.stderr);
    // The first push of watch reaches the second master too, not only the first.
    assert.equal(head(repoA()), localHead());
    assert.equal(head(repoB()), localHead());
    const tracked = JSON.parse(watched.stdout).tracked[0];
    assert.equal(tracked.masters.length, 1);
    assert.match(tracked.masters[0].master, new RegExp(`:${b.port}$`));
    assert.equal(tracked.masters[0].push.status, 'pushed');
    writeFileSync(path.join(app, 'a.conf'), 'edit = 0 (again)\n');
    const pushed = await pacha(['--json', 'push']);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(head(repoA()), localHead());
    assert.equal(head(repoB()), localHead());
    const status = JSON.parse((await pacha(['--json', 'status'])).stdout);
    const masters = status.paths[0].masters;
    assert.equal(masters.length, 2);
    assert.match(masters[0].master, new RegExp(`:${a.port}$`));
    assert.match(masters[1].master, new RegExp(`:${b.port}$`));
    for (const m of masters) assert.deepEqual([m.acknowledged, m.unpushed], [localHead(), 0]);
    const human = await pacha(['status']);
    assert.match(human.stdout, new RegExp(`127\\.0\\.0\\.1:${b.port}: has ${localHead().slice(0, 12)}`));
  });

  test('one master stopped during 20 edits: the other gets each edit as it comes; the stopped one catches up when started', async () => {
    const daemon = spawn(process.execPath, [CLI, '-c', config, 'daemon'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    daemon.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await until('the daemon to watch', () => /watching /.test(stderr), 30_000);
      await b.stop();
      const bHead = head(repoB());
      for (let i = 1; i <= 20; i++) {
        writeFileSync(path.join(app, 'a.conf'), `edit = ${i}\n`);
        // Master A has edit i before edit i+1 is made: it never waits for B's retries.
        await until(`edit ${i} on master A`, () => readIn(repoA(), 'a.conf') === `edit = ${i}\n`, 20_000);
      }
      assert.equal(head(repoB()), bHead, 'B was down');
      assert.match(stderr, new RegExp(`push of ${app.replace(/[/.]/g, '\\$&')} to .*:${b.port} failed .*the other masters are not held up`));
      await b.start();
      await until('master B to catch up', () => head(repoB()) === head(repoA()), 90_000);
      assert.equal(readFileSync(path.join(repoB(), 'a.conf'), 'utf8'), 'edit = 20\n');
      const logB = execFileSync('git', ['-C', repoB(), 'rev-list', '--count', 'main'], { encoding: 'utf8' });
      const logA = execFileSync('git', ['-C', repoA(), 'rev-list', '--count', 'main'], { encoding: 'utf8' });
      assert.equal(logB, logA, 'every commit, not only the last state');
    } finally {
      daemon.kill('SIGTERM');
      await new Promise((resolve) => daemon.once('exit', resolve));
    }
  });

  test('a rebuild takes each path from the master with the newest history, first in the list or not, and says which', async () => {
    await b.stop();
    writeFileSync(path.join(app, 'a.conf'), 'edit = only on A\n');
    const partial = await pacha(['push']);
    assert.equal(partial.code, 4, 'B is down: completed with a failure');
    assert.match(partial.stderr, new RegExp(`to .*:${b.port} failed`));
    await b.start();
    assert.notEqual(head(repoA()), head(repoB()));
    // The host dies; a new one lists B (behind) first.
    rmSync(app, { recursive: true, force: true });
    const fresh = path.join(dir, 'fresh-state');
    const freshConfig = path.join(dir, 'fresh.conf');
    writeConfig(freshConfig, `ssh://${b.user}@127.0.0.1:${b.port}${dirB}, ssh://${a.user}@127.0.0.1:${a.port}${dirA}`, fresh);
    const r = await pacha(['rebuild', '--yes'], freshConfig);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`app: from .*:${a.port}, the newest history \\(.*:${b.port} behind\\)`));
    assert.equal(readFileSync(path.join(app, 'a.conf'), 'utf8'), 'edit = only on A\n');
    // The first master (B) lacks what the rebuilt head has: the next push sends it.
    const push = await pacha(['push'], freshConfig);
    assert.equal(push.code, 0, push.stderr);
    assert.equal(head(repoB()), head(repoA()));
  });

  test('reconcile --keep-local with two masters: the merge reaches the other master too (a fast-forward there)', async () => {
    const freshConfig = path.join(dir, 'fresh.conf');
    const adminGit = (...args: string[]): string =>
      execFileSync('git', ['-C', repoB(), '-c', 'user.name=admin', '-c', 'user.email=admin@master', ...args], { encoding: 'utf8' }).trim();
    // An admin commits on the first master (B); the host edits too: B diverges, A takes the edit.
    writeFileSync(path.join(repoB(), 'admin.conf'), 'admin = 1\n');
    adminGit('add', '-A');
    adminGit('commit', '-q', '-m', 'admin edit on B');
    writeFileSync(path.join(app, 'a.conf'), 'edit = host, while the admin edited B\n');
    const pushed = await pacha(['push'], freshConfig);
    assert.equal(pushed.code, 4, pushed.stderr);
    assert.match(pushed.stderr, /diverged/);
    const hostHead = head(repoA());
    const r = await pacha(['--json', 'reconcile', app, '--keep-local'], freshConfig);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.masters.length, 1);
    assert.match(doc.masters[0].master, new RegExp(`:${a.port}$`));
    assert.equal(doc.masters[0].push.status, 'pushed');
    // Both masters now hold the merge; A's old head (the host's edit) is in it.
    assert.equal(head(repoA()), head(repoB()));
    assert.notEqual(head(repoA()), hostHead);
    execFileSync('git', ['-C', repoA(), 'merge-base', '--is-ancestor', hostHead!, 'main']);
  });

  test('pacha hosts reads the first master and says so (the other is named as not read)', async () => {
    const hosts = await pacha(['hosts']);
    assert.equal(hosts.code, 0, hosts.stderr);
    assert.match(hosts.stderr, new RegExp(`hosts read from [^ ]*:${a.port}, the first master of pacha\\.host \\(1 other not read`));
    assert.match(hosts.stdout, /^bar: /m);
  });

  test('boot with the first master dead completes from the other: fence, push and claim through it (exit 4, the dead one named)', async () => {
    const freshConfig = path.join(dir, 'fresh.conf');
    const userData = path.join(dir, 'user-data.txt');
    writeFileSync(userData, '#cloud-config\n');
    await b.stop();
    try {
      writeFileSync(path.join(app, 'a.conf'), 'edit = while B was dead\n');
      const r = await runPacha(['-c', freshConfig, '--json', 'boot', '--no-watch', '--user-data', userData], { env: { AWS_EC2_METADATA_DISABLED: 'true' } });
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, new RegExp(`:${b.port}.*(unreachable|failed)`));
      // The wait found B dead: no later step waits for it again (each would for pacha.boot.timeout).
      assert.doesNotMatch(r.stderr, new RegExp(`:${b.port}[^\\n]*dropped the connection`), r.stderr);
      const freshHead = execFileSync('git', ['--git-dir', path.join(dir, 'fresh-state', 'repos', 'app.git'), 'rev-parse', 'main'], { encoding: 'utf8' }).trim();
      assert.equal(head(repoA()), freshHead, 'the live master got the boot-time commit');
      const report = JSON.parse(readFileSync(path.join(dir, 'fresh-state', 'boot.json'), 'utf8'));
      const steps = new Map((report.steps as Array<{ step: string; status: string }>).map((st) => [st.step, st]));
      assert.equal(steps.get('fence')?.status, 'ok');
      assert.equal(steps.get('claim')?.status, 'ok');
    } finally {
      await b.start();
    }
  });

  test('pacha.host entries are checked: a bad one is named', async () => {
    const bad = path.join(dir, 'bad.conf');
    writeConfig(bad, `127.0.0.1, ftp://x`, state);
    const r = await pacha(['status'], bad);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pacha.host.*ftp:\/\/ is not a kind of master/);
  });
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});
