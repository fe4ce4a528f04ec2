// Rebuild of a host from a master on a loopback sshd, against what an admin would do by
// hand. Goal (issue 14, target 4): pacha ≤ 1.0× git clone + cp -a, owners and modes exact.
// Four cases: 5k and 50k files, on disk ($TMPDIR) and on a tmpfs mounted for the run
// (pacha refuses to track paths under /dev, so not /dev/shm; needs root).
//
// In each case everything (the master's repositories, the host, pacha's state dir, the
// anchors' scratch) lives on that filesystem.
// - The host: 5 tracked paths, each with 1/5 of the files (many small config-like files,
//   15 per path of 100 KB-1 MB, half incompressible), nested up to three levels, then made
//   server-like (bench/lib/fidelity.ts): 8 owner:group pairs, 0400/0600/0640/0644/0755,
//   setuid and setgid files, sticky and setgid directories, symlinks (relative, absolute,
//   dangling), empty directories, hard links, POSIX ACLs. Pushed once with `pacha watch`.
// - pacha: rm -rf the tracked paths and the state dir, `pacha rebuild bar --yes`. The
//   rebuilt tree is then compared entry by entry with the original (type, content, mode,
//   owner, group, link target, hard-link group, xattrs): any difference fails the benchmark.
// - anchor 1, clone + cp: for each repository (a shell loop) `git clone` over the same sshd
//   with the OpenSSH options pacha gives git (the ControlMaster connection reused after the
//   first), then `cp -a` of the checkout into place. Git keeps no owners and no modes but
//   the executable bit: the anchor gets them wrong, counted and printed beside its figure.
// - anchor 2, `rsync -aH` of the master's working copies over the same connection (owners
//   and modes are the master's copy's, wrong too: counted).
// Rounds rotate the order; each starts with no SSH connection open and dirty pages synced.
// Goal: pacha's median ≤ 1.0× the clone + cp median in every case.
// CPU is printed beside wall time (on a loaded machine it is what counts): user + system
// seconds of the command and the children it waited for (GNU time), and for the clone
// anchor also its OpenSSH ControlMaster's (a background process sh never waits for; pacha
// decrypts in its own process, so that counts on its side).
// PACHA_BENCH_CLI_BASE=<other build>/dist/cli/main.js times a second pacha build in the same
// rounds (A/B against main's build, say), checked as exactly.
//   npm run bench -- rebuild
//   PACHA_BENCH_CASES=5000:tmpfs,5000:disk PACHA_BENCH_ROUNDS=3 PACHA_BENCH_ROUNDS_LARGE=2 npm run bench -- rebuild
//   PACHA_BENCH_CLI_BASE=/tmp/main-build/dist/cli/main.js PACHA_BENCH_CASES=5000:disk node --import tsx bench/rebuild.bench.ts
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { shellCommand } from '../src/master/shell-quote.js';
import { sshArgs, type SshCommandOptions } from '../src/master/ssh-options.js';
import type { Sshd } from '../test/helpers/sshd.js';
import { accountOf, addRealism, differences, formatDifferences, isExact, type Account, type Differences } from './lib/fidelity.js';
import { startMasterSshd } from './lib/master-sshd.js';
import { CLI, cleanEnv, settle, writeSshConfig } from './lib/pacha.js';
import { controlMastersUnder, cpuSecondsOf } from './lib/process-memory.js';
import { runOk } from './lib/run-timed.js';
import { formatBytes, formatMs, median } from './lib/stats.js';
import { makeTree } from './lib/tree.js';

const PATHS = 5;
const HOST = 'bar';
const TARGET_RATIO = 1.0;
/** A second pacha build timed in the same rounds (PACHA_BENCH_CLI_BASE), or none. */
const BASE_CLI = process.env.PACHA_BENCH_CLI_BASE ? path.resolve(process.env.PACHA_BENCH_CLI_BASE) : undefined;
const ROUNDS = Number(process.env.PACHA_BENCH_ROUNDS ?? 3);
const ROUNDS_LARGE = Number(process.env.PACHA_BENCH_ROUNDS_LARGE ?? 2);
const CASES = (process.env.PACHA_BENCH_CASES ?? '5000:disk,5000:tmpfs,50000:disk,50000:tmpfs').split(',').map((c) => {
  const [files, fs] = c.split(':');
  if (!files || !(fs === 'disk' || fs === 'tmpfs')) throw new Error(`PACHA_BENCH_CASES: '${c}' is not FILES:disk or FILES:tmpfs`);
  return { files: Number(files), fs };
});

function fsType(dir: string): string {
  return spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).stdout.trim();
}

/** rsync is the second anchor: installed here (as root, Debian) when missing. */
function ensureRsync(): void {
  if (spawnSync('rsync', ['--version']).status === 0) return;
  console.log('installing rsync (apt-get) for the rsync -aH anchor …');
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'rsync'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) throw new Error('rsync is missing and apt-get could not install it: as root, apt-get install -y --no-install-recommends rsync');
}

/** pacha's own OpenSSH options (src/master/ssh-options.ts), for a control socket under `dir`. */
function sshOptions(sshd: Sshd, dir: string): SshCommandOptions {
  return { stateDir: dir, knownHostsFile: sshd.knownHosts, ignoreGlobalKnownHosts: true, keyFile: sshd.clientKey };
}

/** Close a ControlPersist master left behind under `dir` (a no-op when there is none). */
async function closeControlMaster(sshd: Sshd, dir: string): Promise<void> {
  if (!existsSync(path.join(dir, 'ssh'))) return;
  const [ssh, ...args] = sshArgs(sshOptions(sshd, dir));
  await runOk(ssh!, [...args, '-p', String(sshd.port), '-O', 'exit', `${sshd.user}@127.0.0.1`], { env: cleanEnv() }).catch(() => undefined);
}

interface Case {
  label: string;
  work: string;
  hostsPath: string;
  stateDir: string;
  locations: string[];
  expected: Account[];
  names: string[];
  config: string;
}

function removeTargets(c: Case): void {
  for (const location of c.locations) rmSync(location, { recursive: true, force: true });
}

function compare(c: Case): Differences[] {
  return c.locations.map((location, i) => differences(c.expected[i]!, accountOf(location)));
}

function total(ds: Differences[]): Differences {
  return ds.reduce(
    (a, d) => ({
      content: [...a.content, ...d.content],
      modes: a.modes + d.modes,
      owners: a.owners + d.owners,
      hardLinks: a.hardLinks + d.hardLinks,
      xattrs: a.xattrs + d.xattrs,
      examples: [...a.examples, ...d.examples],
    }),
    { content: [], modes: 0, owners: 0, hardLinks: 0, xattrs: 0, examples: [] },
  );
}

/** pacha must be exact; an anchor must at least put back every file's content and link target. */
function verify(what: string, c: Case, exact: boolean): Differences {
  const ds = compare(c);
  const all = total(ds);
  if (exact && !isExact(all)) throw new Error(`${what} did not restore the tree exactly (${formatDifferences(all)}):\n  ${all.examples.join('\n  ')}`);
  const lost = ds.flatMap((d, i) => d.content.filter((p) => c.expected[i]!.get(p)?.type !== 'dir')); // git keeps no empty directory
  if (lost.length) throw new Error(`${what} lost contents (${lost.length} entries, e.g. ${lost.slice(0, 3).join(', ')}):\n  ${all.examples.join('\n  ')}`);
  return all;
}

interface PachaRound {
  ms: number;
  cpu: number;
  steps: Record<string, number>;
}

async function pachaRound(sshd: Sshd, c: Case, cli: string): Promise<PachaRound> {
  await closeControlMaster(sshd, c.stateDir);
  rmSync(c.stateDir, { recursive: true, force: true });
  removeTargets(c);
  settle();
  const run = await runOk(process.execPath, [cli, '-c', c.config, 'rebuild', HOST, '--yes'], { env: cleanEnv(), cpu: true });
  const reports = path.join(c.stateDir, 'reports');
  const report = JSON.parse(readFileSync(path.join(reports, readdirSync(reports)[0]!), 'utf8')) as { durations?: Record<string, number> };
  await closeControlMaster(sshd, c.stateDir);
  verify(cli === CLI ? 'pacha rebuild' : `pacha rebuild (${cli})`, c, true);
  return { ms: run.ms, cpu: run.cpuSeconds ?? NaN, steps: report.durations ?? {} };
}

/** The shell loop an admin would run: clone each repository, copy its checkout into place. */
function cloneScript(sshd: Sshd, c: Case, stage: string): string {
  const lines = ['set -e'];
  c.names.forEach((name, i) => {
    const url = `ssh://${sshd.user}@127.0.0.1:${sshd.port}${path.join(c.hostsPath, HOST, name)}`;
    const checkout = path.join(stage, name);
    const target = c.locations[i]!;
    lines.push(shellCommand(['git', 'clone', '-q', `--separate-git-dir=${checkout}.git`, url, checkout]));
    lines.push(shellCommand(['rm', '-rf', path.join(checkout, '.git'), path.join(checkout, '.pacha')]));
    lines.push(shellCommand(['mkdir', '-p', path.dirname(target)]));
    lines.push(shellCommand(['cp', '-a', checkout, target]));
  });
  return lines.join('\n');
}

function rsyncScript(sshd: Sshd, c: Case, dir: string): string {
  const lines = ['set -e'];
  const ssh = shellCommand([...sshArgs(sshOptions(sshd, dir)), '-p', String(sshd.port)]);
  c.names.forEach((name, i) => {
    const target = c.locations[i]!;
    lines.push(shellCommand(['mkdir', '-p', path.dirname(target)]));
    lines.push(shellCommand(['rsync', '-aH', '-e', ssh, '--exclude=/.git', '--exclude=/.pacha', `${sshd.user}@127.0.0.1:${path.join(c.hostsPath, HOST, name)}/`, `${target}/`]));
  });
  return lines.join('\n');
}

async function anchorRound(sshd: Sshd, c: Case, which: 'clone' | 'rsync'): Promise<{ ms: number; cpu: number; wrong: Differences }> {
  const dir = path.join(c.work, which);
  await closeControlMaster(sshd, dir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'ssh'), { recursive: true, mode: 0o700 });
  mkdirSync(path.join(dir, 'stage'));
  removeTargets(c);
  settle();
  const env = cleanEnv({ GIT_SSH_COMMAND: shellCommand(sshArgs(sshOptions(sshd, dir))), GIT_TERMINAL_PROMPT: '0' });
  const script = which === 'clone' ? cloneScript(sshd, c, path.join(dir, 'stage')) : rsyncScript(sshd, c, dir);
  const run = await runOk('sh', ['-c', script], { env, cpu: true });
  const mux = controlMastersUnder(dir).reduce((sum, p) => sum + cpuSecondsOf(p.pid), 0);
  await closeControlMaster(sshd, dir);
  return { ms: run.ms, cpu: (run.cpuSeconds ?? NaN) + mux, wrong: verify(which === 'clone' ? 'git clone + cp -a' : 'rsync -aH', c, false) };
}

/** The repositories pacha created on the master, in the order of `locations`. */
function repositoryNames(hostsPath: string, locations: string[]): string[] {
  const names = readdirSync(path.join(hostsPath, HOST)).filter((n) => existsSync(path.join(hostsPath, HOST, n, '.git')));
  return locations.map((location) => {
    const name = names.find((n) => n === path.basename(location) || n.startsWith(path.basename(location).replace(/\./g, '')));
    if (!name) throw new Error(`no repository on the master for ${location} (has: ${names.join(', ')})`);
    return name;
  });
}

function dropWork(work: string): void {
  if (fsType(work) === 'tmpfs') spawnSync('umount', [work]);
  rmSync(work, { recursive: true, force: true });
}

async function setUp(sshd: Sshd, files: number, fs: 'disk' | 'tmpfs'): Promise<Case> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'pacha-bench-rebuild-'));
  // pacha refuses to track paths under /dev (rebuilt at every boot): a tmpfs of its own.
  if (fs === 'tmpfs') {
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16g,mode=0700', 'pacha-bench', work], { encoding: 'utf8' });
    if (mount.status !== 0) throw new Error(`cannot mount a tmpfs on ${work} (the tmpfs case runs as root): ${mount.stderr || mount.error?.message}`);
  }
  try {
    return await fill(sshd, work, files, fs);
  } catch (error) {
    dropWork(work);
    throw error;
  }
}

async function fill(sshd: Sshd, work: string, files: number, fs: 'disk' | 'tmpfs'): Promise<Case> {
  const type = fsType(work);
  if ((fs === 'tmpfs') !== (type === 'tmpfs')) throw new Error(`${work} is ${type}: the ${fs} case needs ${fs === 'tmpfs' ? 'a tmpfs' : 'a disk filesystem'} (set TMPDIR)`);
  const hostsPath = path.join(work, 'master');
  const stateDir = path.join(work, 'state');
  const locations = Array.from({ length: PATHS }, (_, i) => path.join(work, 'host', `srv${i}`, `app${i}.conf.d`));
  let bytes = 0;
  let directories = 0;
  const realism = { symlinks: 0, hardLinks: 0, emptyDirectories: 0, setuid: 0, acls: 0 };
  locations.forEach((location, i) => {
    const facts = makeTree(location, { files: files / PATHS, large: 15, largeMin: 100 * 1024, largeMax: 1024 * 1024, smallMin: 200, smallMax: 3200, seed: 1000 + i });
    bytes += facts.bytes;
    directories += facts.directories;
    const r = addRealism(location, 77 + i);
    for (const k of Object.keys(realism) as Array<keyof typeof realism>) realism[k] += r[k];
  });
  const expected = locations.map((location) => accountOf(location));
  mkdirSync(hostsPath);
  const config = writeSshConfig(path.join(work, 'pacha.conf'), { sshd, hostsPath, stateDir, hostname: HOST });
  const label = `${files.toLocaleString('en-US')} files, ${fs} (${type} at ${work})`;
  console.log(`\n--- ${label} ---`);
  console.log(
    `host: ${PATHS} tracked paths, ${files} files in ${directories} directories, ${formatBytes(bytes)}; ` +
      `${realism.symlinks} symlinks, ${realism.hardLinks} hard links, ${realism.emptyDirectories} empty directories, ${realism.setuid} setuid/setgid files, ${realism.acls} ACLs, 8 owner:group pairs`,
  );
  const watch = await runOk(process.execPath, [CLI, '-c', config, 'watch', ...locations], { env: cleanEnv() });
  console.log(`initial push: pacha watch of the ${PATHS} paths took ${formatMs(watch.ms)}`);
  await closeControlMaster(sshd, stateDir);
  return { label, work, hostsPath, stateDir, locations, expected, names: repositoryNames(hostsPath, locations), config };
}

type Kind = 'pacha' | 'base' | 'clone' | 'rsync';

interface CaseResult {
  label: string;
  /** Wall ms of each round, by kind. */
  ms: Record<Kind, number[]>;
  /** CPU seconds of each round, by kind. */
  cpu: Record<Kind, number[]>;
  cloneWrong: string;
  rsyncWrong: string;
}

const fmt = (values: number[]): string => `min ${formatMs(Math.min(...values))} / median ${formatMs(median(values))}`;

async function runCase(sshd: Sshd, files: number, fs: 'disk' | 'tmpfs'): Promise<CaseResult> {
  const c = await setUp(sshd, files, fs);
  try {
    const rounds = files >= 20_000 ? ROUNDS_LARGE : ROUNDS;
    const result: CaseResult = { label: c.label, ms: { pacha: [], base: [], clone: [], rsync: [] }, cpu: { pacha: [], base: [], clone: [], rsync: [] }, cloneWrong: '', rsyncWrong: '' };
    const kinds: Kind[] = BASE_CLI ? ['pacha', 'clone', 'base', 'rsync'] : ['pacha', 'clone', 'rsync'];
    for (let round = 0; round < rounds; round++) {
      const order = kinds.map((_, i) => kinds[(i + round) % kinds.length]!);
      const line: string[] = [];
      for (const which of order) {
        if (which === 'pacha' || which === 'base') {
          const p = await pachaRound(sshd, c, which === 'pacha' ? CLI : BASE_CLI!);
          result.ms[which].push(p.ms);
          result.cpu[which].push(p.cpu);
          line.push(`${which} ${formatMs(p.ms)} ${p.cpu.toFixed(2)} CPU-s (${Object.entries(p.steps).map(([k, ms]) => `${k.replace(/Ms$/, '')} ${formatMs(ms)}`).join(', ')})`);
        } else {
          const a = await anchorRound(sshd, c, which);
          result.ms[which].push(a.ms);
          result.cpu[which].push(a.cpu);
          result[which === 'clone' ? 'cloneWrong' : 'rsyncWrong'] = formatDifferences(a.wrong);
          line.push(`${which === 'clone' ? 'clone+cp' : 'rsync'} ${formatMs(a.ms)} ${a.cpu.toFixed(2)} CPU-s`);
        }
      }
      console.log(`round ${round + 1}: ${line.join(', ')} (load ${os.loadavg()[0]!.toFixed(2)})`);
    }
    const { ms, cpu } = result;
    const ratio = median(ms.pacha) / median(ms.clone);
    console.log(`pacha rebuild (exact):  ${fmt(ms.pacha)} of ${rounds}; CPU median ${median(cpu.pacha).toFixed(2)} s`);
    if (BASE_CLI) console.log(`base build (exact):     ${fmt(ms.base)} of ${rounds}; CPU median ${median(cpu.base).toFixed(2)} s  (${BASE_CLI})`);
    console.log(`git clone + cp -a:      ${fmt(ms.clone)}; CPU median ${median(cpu.clone).toFixed(2)} s   (${result.cloneWrong})`);
    console.log(`rsync -aH:              ${fmt(ms.rsync)}; CPU median ${median(cpu.rsync).toFixed(2)} s   (${result.rsyncWrong})`);
    console.log(
      `ratio pacha / clone+cp: ${ratio.toFixed(2)}× of the medians, ${(Math.min(...ms.pacha) / Math.min(...ms.clone)).toFixed(2)}× of the minima ` +
        `(goal ≤ ${TARGET_RATIO.toFixed(1)}×: ${ratio <= TARGET_RATIO ? 'met' : 'OVER'}); CPU ${(median(cpu.pacha) / median(cpu.clone)).toFixed(2)}×; pacha / rsync ${(median(ms.pacha) / median(ms.rsync)).toFixed(2)}×`,
    );
    if (BASE_CLI) console.log(`ratio base / clone+cp:  ${(median(ms.base) / median(ms.clone)).toFixed(2)}× of the medians; CPU ${(median(cpu.base) / median(cpu.clone)).toFixed(2)}×`);
    return result;
  } finally {
    await closeControlMaster(sshd, c.stateDir);
    await closeControlMaster(sshd, path.join(c.work, 'clone'));
    await closeControlMaster(sshd, path.join(c.work, 'rsync'));
    dropWork(c.work);
  }
}

ensureRsync();
const sshd = await startMasterSshd();
try {
  console.log(`master: OpenSSH sshd on 127.0.0.1:${sshd.port} as ${sshd.user}, SetEnv=SHLVL=1 (root's ~/.bashrc is skipped for remote commands)`);
  console.log(`machine: ${os.cpus().length} CPUs, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at the start`);
  console.log(`goal: pacha rebuild ≤ ${TARGET_RATIO.toFixed(1)}× (git clone over a reused connection + cp -a), every owner and mode exact`);
  const results: CaseResult[] = [];
  for (const { files, fs } of CASES) results.push(await runCase(sshd, files, fs as 'disk' | 'tmpfs'));
  console.log('\n=== rebuild: pacha / (git clone + cp -a), medians ===');
  for (const r of results) {
    const ratio = median(r.ms.pacha) / median(r.ms.clone);
    const cpu = `CPU ${median(r.cpu.pacha).toFixed(2)} / ${median(r.cpu.clone).toFixed(2)} s = ${(median(r.cpu.pacha) / median(r.cpu.clone)).toFixed(2)}×`;
    const base = BASE_CLI ? `; base build ${(median(r.ms.base) / median(r.ms.clone)).toFixed(2)}×, CPU ${(median(r.cpu.base) / median(r.cpu.clone)).toFixed(2)}×` : '';
    console.log(`${r.label.padEnd(40)} ${formatMs(median(r.ms.pacha)).padStart(8)} / ${formatMs(median(r.ms.clone)).padStart(8)} = ${ratio.toFixed(2)}× ${ratio <= TARGET_RATIO ? 'met' : 'OVER'}, ${cpu}${base}   rsync ${formatMs(median(r.ms.rsync))}; clone+cp: ${r.cloneWrong}`);
  }
  console.log(`load: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (1, 5, 15 min) at the end; the machine is shared, other work inflates both sides`);
} finally {
  await sshd.stop();
  rmSync(sshd.dir, { recursive: true, force: true });
}
