// `pacha fleet` against one real sshd master holding twenty hosts. Host fleet01 is a real
// pacha host (watch, then its daemon: real trailers, a real heartbeat over SSH); the other
// nineteen are repositories made with git and pushed over SSH with faked commit times
// (GIT_COMMITTER_DATE), as their daemons would have over weeks: ok, idle-but-alive, stale,
// never beating, diverged, never pushed, empty. The fleet itself is read with the CLI, as an
// admin with an unrestricted key: human, --json, --prometheus, --html (opened in Chromium).
import assert from 'node:assert/strict';
import { execFile as execFileCallback } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { before, test } from 'node:test';
import { ensureRepositoryHere } from '../../../src/master/ensure-repository.js';
import { withTrailers } from '../../../src/store/provenance.js';
import { startDaemon } from '../daemon/helpers/daemon-process.js';
import { startSshd, type Sshd } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tmp.js';
import { runPacha, type RunResult } from '../../helpers/world.js';
import { parseExposition } from './prometheus-parse.js';

const execFile = promisify(execFileCallback);
const HOUR = 3600;
const DAY = 24 * HOUR;

interface Plan {
  host: string;
  paths: string[];
  /** Commit ages in seconds (main), oldest first is not required. */
  commits: number[];
  /** Heartbeat age in seconds; undefined: none. */
  heartbeat?: number;
  diverged?: boolean;
  /** Repositories made on the master, nothing pushed. */
  neverPushed?: boolean;
  empty?: boolean;
  expected: string;
}

const now = Math.floor(Date.now() / 1000);
const plans: Plan[] = [];
for (let i = 2; i <= 14; i++) {
  // Busy hosts: a commit an hour for the last i hours, and one a day for a fortnight.
  const commits = [...Array.from({ length: i % 5 }, (_, k) => (k + 1) * HOUR), ...Array.from({ length: 14 }, (_, k) => (k + 2) * DAY + i * 60)];
  plans.push({ host: `fleet${String(i).padStart(2, '0')}`, paths: i % 3 === 0 ? ['etc', 'nginx'] : ['etc'], commits, heartbeat: (i * 7) * 60, expected: 'ok' });
}
// Idle but alive: nothing changed for 20 days, the daemon beat 30 minutes ago.
plans[3] = { ...plans[3]!, commits: [20 * DAY, 25 * DAY], heartbeat: 30 * 60 };
plans.push({ host: 'fleet15', paths: ['etc'], commits: [3 * DAY + 5, 4 * DAY], heartbeat: 3 * DAY, expected: 'stale' });
plans.push({ host: 'fleet16', paths: ['etc'], commits: [10 * DAY + 5, 12 * DAY], heartbeat: 10 * DAY, expected: 'stale' });
plans.push({ host: 'fleet17', paths: ['etc'], commits: [HOUR, 2 * HOUR], expected: 'stale' });
plans.push({ host: 'fleet18', paths: ['etc', 'app'], commits: [2 * HOUR, DAY + 3], heartbeat: 600, diverged: true, expected: 'diverged' });
plans.push({ host: 'fleet19', paths: ['etc'], commits: [], neverPushed: true, expected: 'never-pushed' });
plans.push({ host: 'fleet20', paths: [], commits: [], empty: true, expected: 'empty' });

let sshd: Sshd;
let dir: string;
let masterDir: string;
let adminConfig: string;
let bootId: string;
const expectedState = new Map<string, string>([['fleet01', 'ok'], ...plans.map((p) => [p.host, p.expected] as [string, string])]);

async function git(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await execFile('git', args, { cwd, env: { PATH: process.env.PATH!, HOME: dir, GIT_AUTHOR_NAME: 'pacha', GIT_AUTHOR_EMAIL: 'p@h', GIT_COMMITTER_NAME: 'pacha', GIT_COMMITTER_EMAIL: 'p@h', ...env } });
  return stdout.trim();
}

const dated = (secondsAgo: number) => {
  const date = `@${now - secondsAgo} +0000`;
  return { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
};

/** A git fast-import stream: main's commits (oldest first), then the heartbeat (a root commit of the empty tree). */
function importStream(plan: Plan, name: string): string {
  const instance = `i-0${plan.host.slice(-2)}abcdef`;
  const by = { instance, boot: `boot-${plan.host}`, origin: 'daemon' as const };
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const person = (age: number) => `pacha <pacha@${plan.host}> ${now - age} +0000`;
  const commit = (ref: string, age: number, message: string) => `commit ${ref}\nauthor ${person(age)}\ncommitter ${person(age)}\n${data(message)}`;
  const parts = [...plan.commits]
    .sort((a, b) => b - a)
    .map((age) => `${commit('refs/heads/main', age, withTrailers(`/etc/${name}: app.conf`, by))}M 644 inline app.conf\n${data(`changed ${age}`)}`);
  if (plan.heartbeat !== undefined) parts.push(`${commit('refs/pacha/heartbeat', plan.heartbeat, withTrailers(`pacha heartbeat of ${plan.host}`, by))}deleteall\n`);
  return parts.join('');
}

/** One simulated host: its history made with git fast-import, pushed over SSH as its daemon would have. */
async function simulate(plan: Plan): Promise<void> {
  mkdirSync(path.join(masterDir, plan.host), { recursive: true, mode: 0o700 });
  for (const name of plan.paths) {
    await ensureRepositoryHere(masterDir, plan.host, name, 'test');
    if (plan.neverPushed) continue;
    const local = path.join(dir, 'hosts', plan.host, `${name}.git`);
    mkdirSync(local, { recursive: true });
    await git(local, ['init', '-q', '--bare', '-b', 'main']);
    await new Promise<void>((resolve, reject) => {
      const child = execFileCallback('git', ['fast-import', '--quiet'], { cwd: local, env: { PATH: process.env.PATH!, GIT_DIR: local } }, (error) => (error ? reject(error) : resolve()));
      child.stdin!.end(importStream(plan, name));
    });
    const refspecs = ['refs/heads/main:refs/heads/main'];
    if (plan.heartbeat !== undefined) refspecs.push('+refs/pacha/heartbeat:refs/pacha/heartbeat');
    if (plan.diverged && name === 'app') refspecs.push(`refs/heads/main:refs/pacha/diverged/${plan.host}/2026-11-30T10-00-00-000Z`);
    const url = `ssh://${sshd.user}@127.0.0.1:${sshd.port}${path.join(masterDir, plan.host, name)}`;
    // One shared connection for all the pushes: a key exchange costs ~250 ms of CPU each.
    const ssh = `ssh -i ${sshd.clientKey} -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${sshd.knownHosts} -o ControlMaster=auto -o ControlPath=${dir}/cm-%C -o ControlPersist=20`;
    await git(local, ['push', '-q', url, ...refspecs], { GIT_SSH_COMMAND: ssh });
  }
}

/** At most `limit` at a time (two cores, shared). */
async function inBatches<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += limit) await Promise.all(items.slice(i, i + limit).map(run));
}

function sshConfig(file: string, lines: string[]): string {
  writeFileSync(
    file,
    [
      'pacha.host = 127.0.0.1',
      `pacha.ssh.port = ${sshd.port}`,
      `pacha.ssh.user = ${sshd.user}`,
      `pacha.ssh.key = ${sshd.clientKey}`,
      `pacha.ssh.known_hosts = ${sshd.knownHosts}`,
      `pacha.hosts.path = ${masterDir}`,
      ...lines,
    ].join('\n') + '\n',
  );
  return file;
}

const fleet = (args: string[]): Promise<RunResult> => runPacha(['-c', adminConfig, 'fleet', ...args]);
/** Each reading runs once (a reading of 30 repositories costs seconds on a loaded machine). */
function once(run: () => Promise<RunResult>): () => Promise<RunResult> {
  let result: Promise<RunResult> | undefined;
  return () => (result ??= run());
}
const human = once(() => fleet([]));
const promFile = () => path.join(dir, 'textfile', 'pacha.prom');
const htmlFile = () => path.join(dir, 'fleet.html');
const full = once(() => {
  mkdirSync(path.dirname(promFile()), { recursive: true });
  return fleet(['--json', '--prometheus', promFile(), '--html', htmlFile()]);
});

before(async () => {
  dir = tempDir('pacha-fleet-');
  masterDir = path.join(dir, 'master');
  mkdirSync(masterDir);
  sshd = await startSshd();
  bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

  // fleet01: a real pacha host. Its boot saved the instance id; its daemon tracks pacha.watch,
  // commits, pushes and beats.
  const state = path.join(dir, 'fleet01-state');
  const etc = path.join(dir, 'fleet01-root', 'etc');
  mkdirSync(etc, { recursive: true });
  mkdirSync(state, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(etc, 'hosts.conf'), 'a\n');
  writeFileSync(path.join(state, 'boot-settings.json'), JSON.stringify({ version: 1, written: new Date().toISOString(), values: [], instance: 'i-0real01' }));
  const hostConfig = sshConfig(path.join(dir, 'fleet01.conf'), ['pacha.hostname = fleet01', `pacha.state.path = ${state}`, `pacha.watch = ${etc}`, 'pacha.log.level = debug']);
  const simulated = inBatches(plans, 5, simulate);
  const daemon = startDaemon(hostConfig, { SUDO_USER: 'nobody' });
  await daemon.waitFor(/pushed .*etc/, 60_000);
  await daemon.waitFor(/heartbeat of .*etc sent/, 60_000); // the beat after the first push
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.stderr());
  await simulated;

  adminConfig = sshConfig(path.join(dir, 'admin.conf'), [`pacha.state.path = ${path.join(dir, 'admin-state')}`]);
});

test("fleet01, a real host: its daemon's commit carries the trailers and it beat over SSH", async () => {
  const repo = path.join(masterDir, 'fleet01', 'etc');
  const beat = await git(repo, ['log', '-1', '--format=%ct%n%B', 'refs/pacha/heartbeat']);
  assert.match(beat, /Pacha-Instance: i-0real01/);
  assert.match(beat, new RegExp(`Pacha-Boot: ${bootId}`));
  assert.ok(Math.abs(Number(beat.split('\n')[0]) - Date.now() / 1000) < 120);
  assert.equal(await git(repo, ['rev-list', '--count', 'refs/pacha/heartbeat']), '1', 'a heartbeat has no parent: it adds no history');
  const messages = (await git(repo, ['log', '--format=%x1e%B', 'main'])).split('\x1e').filter(Boolean);
  assert.equal(messages.length, 1);
  assert.match(messages[0]!, new RegExp(`Pacha-Instance: i-0real01\nPacha-Boot: ${bootId}\nPacha-Origin: daemon$`));
  assert.doesNotMatch(messages[0]!, /Pacha-User/, 'the daemon is no person (SUDO_USER in its environment or not)');
});

test('human output: one row per host, diverged and stale first, with the reasons; exit 1', async () => {
  const result = await human();
  assert.equal(result.code, 1, result.stderr);
  const rows = result.stdout.split('\n').filter((l) => /^(ok|stale|diverged|never-pushed|empty)\s/.test(l));
  assert.equal(rows.length, 20, result.stdout);
  const states = rows.map((r) => r.split(/\s+/)[0]);
  const hosts = rows.map((r) => r.split(/\s+/)[1]);
  assert.deepEqual(states.slice(0, 6), ['diverged', 'stale', 'stale', 'stale', 'never-pushed', 'empty']);
  // Stale: the one that never beat first, then the oldest heartbeat.
  assert.deepEqual(hosts.slice(0, 6), ['fleet18', 'fleet17', 'fleet16', 'fleet15', 'fleet19', 'fleet20']);
  assert.ok(states.slice(6).every((s) => s === 'ok'));
  assert.match(result.stdout, /^\s+app: diverged \(1 saved history, newest refs\/pacha\/diverged\/fleet18\//m);
  assert.match(result.stdout, /^\s+no heartbeat for 10 d \(stale after 24 h\)$/m);
  assert.match(result.stdout, /^\s+no heartbeat ever: is its daemon running\?$/m);
  assert.match(result.stdout, /^20 hosts: 1 diverged, 3 stale, 1 never-pushed, 1 empty, 14 ok$/m);
  assert.match(result.stdout, /^STATE\s+HOST\s+LAST PUSH\s+HEARTBEAT\s+INSTANCE\s+BOOT\s+24H\s+PATHS$/m);
});

test('--json: states, per-path pushes, instance and boot, commits in 24 h; an idle host that beats is ok', async () => {
  const result = await full();
  assert.equal(result.code, 1, result.stderr);
  const doc = JSON.parse(result.stdout);
  assert.equal(doc.ok, false);
  assert.equal(doc.hosts.length, 20);
  assert.deepEqual(doc.counts, { diverged: 1, stale: 3, 'never-pushed': 1, empty: 1, ok: 14 });
  for (const h of doc.hosts) assert.equal(h.state, expectedState.get(h.host), h.host);
  const byHost = new Map<string, any>(doc.hosts.map((h: any) => [h.host, h]));
  const real = byHost.get('fleet01');
  assert.equal(real.instance, 'i-0real01');
  assert.equal(real.boot, bootId);
  assert.equal(real.commits24h, 1);
  assert.equal(real.paths[0].by.origin, 'daemon');
  const idle = byHost.get('fleet05');
  assert.equal(idle.state, 'ok');
  assert.equal(idle.commits24h, 0);
  assert.equal(idle.lastPush, new Date((now - 20 * DAY) * 1000).toISOString());
  const busy = byHost.get('fleet09'); // 4 commits in the last hours, on each of 2 paths
  assert.deepEqual(busy.paths.map((p: any) => p.name), ['etc', 'nginx']);
  assert.equal(busy.commits24h, 8);
  assert.equal(busy.instance, 'i-009abcdef');
  assert.equal(busy.timeline.length, 30);
  assert.equal(busy.timeline.reduce((a: number, b: number) => a + b, 0), 2 * (4 + 14));
  const diverged = byHost.get('fleet18');
  assert.deepEqual(diverged.paths.find((p: any) => p.name === 'app').diverged, ['refs/pacha/diverged/fleet18/2026-11-30T10-00-00-000Z']);
  assert.equal(byHost.get('fleet20').paths.length, 0);
  assert.equal(byHost.get('fleet19').lastPush, null);
});

test('--prometheus FILE: the node_exporter textfile parses by the format rules and says the same', async () => {
  const file = promFile();
  const result = await full();
  assert.equal(result.code, 1, result.stderr);
  const doc = JSON.parse(result.stdout);
  const text = readFileSync(file, 'utf8');
  const exposition = parseExposition(text);
  assert.equal(exposition.types.get('pacha_host_last_push_timestamp_seconds'), 'gauge');
  assert.equal(exposition.types.get('pacha_host_state'), 'gauge');
  for (const sample of exposition.samples) assert.ok(exposition.types.has(sample.name), `${sample.name} has a TYPE`);
  const states = exposition.samples.filter((s) => s.name === 'pacha_host_state' && s.value === 1);
  assert.equal(states.length, 20);
  for (const s of states) assert.equal(s.labels.state, expectedState.get(s.labels.host!), s.labels.host);
  assert.equal(exposition.samples.filter((s) => s.name === 'pacha_host_state').length, 20 * 5);
  const pushes = exposition.samples.filter((s) => s.name === 'pacha_host_last_push_timestamp_seconds');
  assert.equal(pushes.length, 18, 'never-pushed and empty hosts have no last push');
  for (const p of pushes) {
    const row = doc.hosts.find((h: any) => h.host === p.labels.host);
    assert.equal(p.value, Date.parse(row.lastPush) / 1000);
  }
  assert.equal(statSync(file).mode & 0o777, 0o644);
});

test('--html FILE: one self-contained page; in Chromium the table has 20 rows, the state filter works, the timelines render', async () => {
  const file = htmlFile();
  const result = await full();
  assert.equal(result.code, 1, result.stderr);
  const html = readFileSync(file, 'utf8');
  assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i, 'nothing is loaded from elsewhere');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`file://${file}`);
    const visible = () => page.locator('#fleet tbody tr:visible').count();
    assert.equal(await page.locator('#fleet tbody tr').count(), 20);
    assert.equal(await visible(), 20);
    assert.equal(await page.locator('#fleet tbody tr').first().getAttribute('data-state'), 'diverged');
    await page.selectOption('#state-filter', 'stale');
    assert.equal(await visible(), 3);
    assert.deepEqual(await page.locator('#fleet tbody tr:visible').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-host'))), ['fleet17', 'fleet16', 'fleet15']);
    assert.equal(await page.locator('#shown').textContent(), '3 of 20 hosts shown');
    await page.selectOption('#state-filter', '');
    await page.fill('#text-filter', 'fleet1');
    assert.equal(await visible(), 10);
    await page.fill('#text-filter', '');
    // Sorting: click "Host" and the rows are in name order.
    await page.locator('#fleet thead th', { hasText: 'Host' }).click();
    assert.equal(await page.locator('#fleet tbody tr').first().getAttribute('data-host'), 'fleet01');
    // Timelines: 30 days per host; busy days drawn.
    assert.equal(await page.locator('svg.timeline').count(), 20);
    assert.equal(await page.locator('tr[data-host="fleet09"] svg.timeline rect').count(), 30);
    assert.ok((await page.locator('tr[data-host="fleet09"] svg.timeline rect.active').count()) >= 10);
    const box = await page.locator('tr[data-host="fleet09"] svg.timeline').boundingBox();
    assert.ok(box && box.width >= 100 && box.height >= 20, JSON.stringify(box));
    await page.screenshot({ path: path.join(dir, 'fleet.png'), fullPage: true });
    assert.deepEqual(errors, []);
    if (process.env.PACHA_KEEP_SCREENSHOT) writeFileSync(process.env.PACHA_KEEP_SCREENSHOT, readFileSync(path.join(dir, 'fleet.png')));
  } finally {
    await browser.close();
  }
  assert.ok(existsSync(path.join(dir, 'fleet.png')));
});
