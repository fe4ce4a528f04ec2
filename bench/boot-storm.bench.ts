// Boot storm: N instances (separate processes, state dirs and roots) run `pacha boot
// --no-watch` at the same moment, each rebuilding its own host h<i> (a small /etc-like tree,
// one tracked path) from one master: (a) one OpenSSH sshd with OpenSSH's default
// `MaxStartups 10:30:100` (PACHA_BENCH_MAXSTARTUPS overrides it), (b) an S3 bucket on
// moto_server. Reported per master: how many finished (and verified), p50/p95/max time to
// rebuilt, retries (boot's master wait and S3's backoff, counted from their log lines), the
// master's CPU time (sshd with its reaped children; moto_server's process) against the
// wall time of the storm.
//   PACHA_BENCH_N=200 PACHA_BENCH_MASTERS=ssh,s3 node --import tsx bench/boot-storm.bench.ts
// sshd runs with OpenSSH's defaults for MaxStartups (10:30:100) and MaxSessions (10) unless
// PACHA_BENCH_MAXSTARTUPS / PACHA_BENCH_MAXSESSIONS say otherwise; PACHA_BENCH_SSHD_OPTIONS
// adds more sshd_config options ("LoginGraceTime=600,…"): the README's settings for a large
// fleet are shown working that way. The storm is stopped (every instance killed, reported as
// such) if the machine's available memory drops below PACHA_BENCH_MIN_FREE_MB (3072).
// PACHA_BENCH_VERBOSE prints each failed instance's last lines.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CopyObjectCommand, CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { freePort, startSshd, type Sshd } from '../test/helpers/sshd.js';
import { CLI, cleanEnv, writeSshConfig } from './lib/pacha.js';
import { runOk } from './lib/run-timed.js';
import { formatMs, percentile } from './lib/stats.js';

const N = Number(process.env.PACHA_BENCH_N ?? 200);
const MASTERS = (process.env.PACHA_BENCH_MASTERS ?? 'ssh,s3').split(',');
const MAX_STARTUPS = process.env.PACHA_BENCH_MAXSTARTUPS ?? '10:30:100';
const MAX_SESSIONS = Number(process.env.PACHA_BENCH_MAXSESSIONS ?? 10);
const SSHD_OPTIONS = (process.env.PACHA_BENCH_SSHD_OPTIONS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
const MIN_FREE_MB = Number(process.env.PACHA_BENCH_MIN_FREE_MB ?? 3072);
const BOOT_TIMEOUT = Number(process.env.PACHA_BENCH_BOOT_TIMEOUT ?? 600);
const FILES = 8;
// Short paths: OpenSSH's connection socket lives under each state dir (a Unix socket path has 108 bytes).
const work = mkdtempSync(path.join(os.tmpdir(), 'pbs-'));
const source = path.join(work, 'src', 'etc', 'app');
const ticks = 100; // USER_HZ on Linux

function cpuSeconds(pid: number, withChildren: boolean): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // fields[11..14] = utime stime cutime cstime (stat fields 14..17)
  const own = Number(fields[11]) + Number(fields[12]);
  return (own + (withChildren ? Number(fields[13]) + Number(fields[14]) : 0)) / ticks;
}

function makeSource(): void {
  mkdirSync(path.join(source, 'conf.d'), { recursive: true });
  for (let i = 0; i < FILES; i++) writeFileSync(path.join(source, i % 2 ? 'conf.d' : '.', `f${i}.conf`), `key${i} = ${'v'.repeat(200 + i)}\n`);
}

interface Outcome {
  ms: number;
  code: number | null;
  retries: number;
  verified: boolean;
  /** A failed instance's last line of output (what stopped it). */
  last: string;
}

function availableMb(): number {
  const line = readFileSync('/proc/meminfo', 'utf8').split('\n').find((l) => l.startsWith('MemAvailable:'));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

/**
 * Start instances h<i> for each of `hosts` at once (under work/<sub>); resolve when all have
 * exited. The anchor is one instance alone (host h<N>, a copy of the same tree), the storm all N.
 */
async function storm(masterLines: (i: number) => string[], env: NodeJS.ProcessEnv, hosts: number[] = [...Array(N).keys()], sub = 'i'): Promise<StormResult> {
  const instances = hosts.map((i) => {
    const dir = path.join(work, sub, String(i));
    const state = path.join(dir, 's');
    const root = path.join(dir, 'root');
    // The root's own account databases: owners are restored by name, as on a real image.
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    for (const db of ['passwd', 'group']) cpSync(`/etc/${db}`, path.join(root, 'etc', db));
    const userData = path.join(dir, 'user-data');
    writeFileSync(userData, ['#cloud-config', 'pacha:', `  hostname: h${i}`, '  config: |', ...[...masterLines(i), `pacha.state.path = ${state}`, `pacha.boot.timeout = ${BOOT_TIMEOUT}`].map((l) => `    ${l}`), ''].join('\n'));
    return { i, dir, state, root, userData };
  });
  const image = path.join(work, 'image.conf');
  writeFileSync(image, '# nothing host-specific\n');
  const started = performance.now();
  const children = new Set<ChildProcess>();
  let lowestFreeMb = availableMb();
  let stopped = false;
  const guard = setInterval(() => {
    lowestFreeMb = Math.min(lowestFreeMb, availableMb());
    if (lowestFreeMb >= MIN_FREE_MB || stopped) return;
    stopped = true;
    console.log(`  available memory ${lowestFreeMb} MB < ${MIN_FREE_MB} MB: stopping the storm (killing ${children.size} instances)`);
    for (const child of children) child.kill('SIGKILL');
  }, 1000);
  const outcomes = await Promise.all(
    instances.map(
      (inst) =>
        new Promise<Outcome>((resolve) => {
          const t0 = performance.now();
          const child: ChildProcess = spawn(process.execPath, [CLI, '--root', inst.root, '-c', image, 'boot', '--no-watch', '--user-data', inst.userData, '--instance-data', path.join(inst.dir, 'none')], {
            env: { ...env, PACHA_STATE_PATH: inst.state, NODE_NO_WARNINGS: '1' },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          children.add(child);
          let stderr = '';
          // Boot's progress (its master wait's retries) is on stdout, S3's and git's on stderr.
          child.stdout!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
          child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
          child.once('close', (code) => {
            children.delete(child);
            const ms = performance.now() - t0;
            const retries = stderr.split('\n').filter((l) => /next try in|is busy or unavailable|retry \d+ in/i.test(l)).length;
            let verified = false;
            try {
              const restored = path.join(inst.root, source);
              verified = readdirSync(restored).length >= FILES / 2 && readFileSync(path.join(restored, 'f0.conf'), 'utf8') === `key0 = ${'v'.repeat(200)}\n`;
            } catch {
              verified = false;
            }
            if (code !== 0 && process.env.PACHA_BENCH_VERBOSE) console.log(`h${inst.i}: exit ${code}: ${stderr.trim().split('\n').slice(-2).join(' | ')}`);
            const lines = stderr.trim().split('\n');
            const last = code === 0 ? '' : (lines.filter((l) => /error|fail|refused|timed? ?out|did not/i.test(l)).at(-1) ?? lines.at(-1) ?? '');
            resolve({ ms, code, retries, verified, last });
          });
        }),
    ),
  );
  clearInterval(guard);
  return { outcomes, wallMs: performance.now() - started, lowestFreeMb: Math.min(lowestFreeMb, availableMb()), stopped };
}

interface StormResult {
  outcomes: Outcome[];
  wallMs: number;
  lowestFreeMb: number;
  /** Stopped by the memory floor. */
  stopped: boolean;
}

/** What stopped the failed instances, most common first (host names and numbers blurred). */
function failureKinds(outcomes: Outcome[]): string[] {
  const kinds = new Map<string, number>();
  for (const o of outcomes.filter((x) => x.code !== 0 || !x.verified)) {
    const kind = (o.last || `exit ${o.code}, not verified`).replace(/\bh\d+\b/g, 'hN').replace(/\d+(\.\d+)?/g, 'N').slice(0, 240);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, n]) => `${n} × ${k}`);
}

/** One instance booting alone, just before the storm: the anchor its times are compared with. */
async function anchor(masterLines: (i: number) => string[], env: NodeJS.ProcessEnv): Promise<number> {
  const alone = await storm(masterLines, env, [N], 'a');
  const [one] = alone.outcomes;
  if (one?.code !== 0 || !one.verified) throw new Error(`the anchor (one instance alone) failed: ${one?.last}`);
  console.log(`  anchor: one instance alone: ${formatMs(one.ms)} to rebuilt`);
  return one.ms;
}

function report(name: string, result: StormResult, cpu: number, aloneMs: number): void {
  const ok = result.outcomes.filter((o) => o.code === 0 && o.verified);
  const times = ok.map((o) => o.ms);
  const codes = new Map<string, number>();
  for (const o of result.outcomes) codes.set(String(o.code), (codes.get(String(o.code)) ?? 0) + 1);
  console.log(`${name}: ${ok.length}/${N} finished and verified (exit codes: ${[...codes].map(([c, n]) => `${c}×${n}`).join(', ')})`);
  const ratio = (ms: number): string => `${formatMs(ms)} (${(ms / aloneMs).toFixed(1)}× alone)`;
  if (times.length) console.log(`  time to rebuilt: p50 ${ratio(percentile(times, 50))}, p95 ${ratio(percentile(times, 95))}, max ${ratio(Math.max(...times))}`);
  console.log(`  retries logged: ${result.outcomes.reduce((s, o) => s + o.retries, 0)} (instances that retried: ${result.outcomes.filter((o) => o.retries > 0).length})`);
  console.log(`  master CPU: ${cpu.toFixed(1)} s over a ${formatMs(result.wallMs)} storm (${((cpu * 1000) / result.wallMs).toFixed(2)} cores on average)`);
  console.log(`  lowest available memory during the storm: ${result.lowestFreeMb} MB${result.stopped ? ' (storm stopped: below the floor)' : ''}`);
  for (const kind of failureKinds(result.outcomes)) console.log(`  failed: ${kind}`);
}

function loadLine(): string {
  return `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`;
}

async function sshStorm(): Promise<void> {
  const sshd: Sshd = await startSshd({ maxStartups: MAX_STARTUPS, maxSessions: MAX_SESSIONS, extra: SSHD_OPTIONS });
  try {
    const hostsPath = path.join(work, 'master');
    mkdirSync(hostsPath);
    const config = writeSshConfig(path.join(work, 'seed-ssh.conf'), { sshd, hostsPath, stateDir: path.join(work, 'ss'), hostname: 'h0' });
    await runOk(process.execPath, [CLI, '-c', config, 'watch', source], { env: cleanEnv() });
    for (let i = 1; i <= N; i++) cpSync(path.join(hostsPath, 'h0'), path.join(hostsPath, `h${i}`), { recursive: true });
    const lines = (): string[] => ['pacha.host = 127.0.0.1', `pacha.ssh.port = ${sshd.port}`, `pacha.ssh.user = ${sshd.user}`, `pacha.ssh.key = ${sshd.clientKey}`, `pacha.ssh.known_hosts = ${sshd.knownHosts}`, `pacha.hosts.path = ${hostsPath}`];
    console.log(`\n(a) one sshd: MaxStartups ${MAX_STARTUPS}, MaxSessions ${MAX_SESSIONS}${SSHD_OPTIONS.length ? `, ${SSHD_OPTIONS.join(', ')}` : ''} (otherwise OpenSSH's defaults); ${loadLine()}`);
    const env = cleanEnv({ AWS_EC2_METADATA_DISABLED: 'true' });
    const aloneMs = await anchor(lines, env);
    const before = cpuSeconds(sshd.pid()!, true);
    const result = await storm(lines, env);
    report('ssh', result, cpuSeconds(sshd.pid()!, true) - before, aloneMs);
    console.log(`  after: ${loadLine()}`);
  } finally {
    await sshd.stop();
    for (const sub of ['i', 'a']) rmSync(path.join(work, sub), { recursive: true, force: true });
  }
}

async function s3Storm(): Promise<void> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  try {
    for (let i = 0; ; i++) {
      if (await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' }).then((r) => r.ok, () => false)) break;
      if (i > 300) throw new Error('moto_server did not start');
      await delay(50);
    }
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    const admin = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials });
    await admin.send(new CreateBucketCommand({ Bucket: 'fleet' }));
    const env = cleanEnv({ AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL_S3: endpoint, AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' });
    const seed = path.join(work, 'seed-s3.conf');
    writeFileSync(seed, `pacha.host = s3://fleet/hosts\npacha.hostname = h0\npacha.state.path = ${path.join(work, 'seed-s3-state')}\n`);
    await runOk(process.execPath, [CLI, '-c', seed, 'watch', source], { env });
    const keys = ((await admin.send(new ListObjectsV2Command({ Bucket: 'fleet' }))).Contents ?? []).map((o) => o.Key!).filter((k) => k.startsWith('hosts/h0/'));
    for (let i = 1; i <= N; i++) {
      await Promise.all(keys.map((k) => admin.send(new CopyObjectCommand({ Bucket: 'fleet', Key: k.replace('hosts/h0/', `hosts/h${i}/`), CopySource: `fleet/${k}` }))));
    }
    admin.destroy();
    console.log(`\n(b) S3 on moto_server (one Python process); ${loadLine()}`);
    const lines = (): string[] => ['pacha.host = s3://fleet/hosts'];
    const aloneMs = await anchor(lines, env);
    const before = cpuSeconds(moto.pid!, false);
    const result = await storm(lines, env);
    report('s3', result, cpuSeconds(moto.pid!, false) - before, aloneMs);
    console.log(`  after: ${loadLine()}`);
  } finally {
    moto.kill('SIGTERM');
    for (const sub of ['i', 'a']) rmSync(path.join(work, sub), { recursive: true, force: true });
  }
}

console.log(`boot storm: N=${N} instances at once, each \`pacha boot --no-watch\` rebuilding its own host (${FILES} files, one path); node ${process.version}`);
makeSource();
try {
  if (MASTERS.includes('ssh')) await sshStorm();
  if (MASTERS.includes('s3')) await s3Storm();
} finally {
  rmSync(work, { recursive: true, force: true });
  spawnSync('true');
}
