// Footprint (issue 3): `pacha daemon` tracking 10,000 files in 1,000 leaf directories
// (1,111 directories), default settings (pacha.frequency 60 s), master on a loopback sshd.
// - RSS (VmRSS of /proc/<pid>/status: the daemon's node process alone, not its git/ssh
//   children) once the initial scan is committed and pushed, and after 5 minutes of idling.
//   Target ≤ 100 MB. VmHWM (the peak so far) is shown beside it.
// - CPU seconds (utime+stime of /proc/<pid>/stat) over 60 idle seconds, of the daemon alone
//   and with its children (cutime+cstime: the git processes it ran and reaped). Target
//   ≤ 0.6 s. Each 60 s window starts 30 s into a reconcile period, so it holds exactly one
//   periodic reconcile scan, in its middle; the idle time is cut into as many such windows
//   as fit, each reported.
// - Then one idle reconcile under `strace -f -e trace=execve`: the processes it starts.
// - Then the parts of one idle reconcile, timed in this process on the same tree and state
//   dir once the daemon has stopped (CPU of this process, and of the git children apart).
// PACHA_BENCH_QUICK=1: RSS after 30 s of idling instead of 5 minutes, one CPU window.
// sshd: test/helpers/sshd.ts's, with SetEnv=SHLVL=1 (root's ~/.bashrc skipped; TESTING.md).
//   node --import tsx bench/footprint.bench.ts    (after `npm run build`; ~7 min, ~2.5 min quick)
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadAccounts } from '../src/accounts.js';
import { walkDirectories } from '../src/daemon/watcher.js';
import { captureMetadata } from '../src/store/capture.js';
import { metadataFiles, shardCount } from '../src/store/metadata-files.js';
import { Store } from '../src/store/store.js';
import { makeWorld } from '../test/helpers/world.js';
import { machineLoad, startDaemon } from './lib/daemon.js';
import { makeLeafTree } from './lib/leaf-tree.js';
import { formatMs, median } from './lib/stats.js';

const QUICK = process.env.PACHA_BENCH_QUICK === '1';
const IDLE_S = QUICK ? 30 : 300;
const FREQUENCY_S = 60; // pacha.frequency's default: the reconcile period
const WINDOW_OFFSET_S = FREQUENCY_S / 2;
// Full run: windows 30-90 … 270-330 s, so the 5-minute RSS figure falls inside the last one.
const WINDOWS = QUICK ? 1 : IDLE_S / FREQUENCY_S;
const TARGET_RSS_MB = 100;
const TARGET_CPU_S = 0.6;
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux (`getconf CLK_TCK`)

interface CpuTicks {
  self: number;
  children: number;
}

/** utime+stime and cutime+cstime of a process, in clock ticks (fields 14-17 of /proc/<pid>/stat). */
function cpuTicks(pid: number): CpuTicks {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; fields after it are counted from its ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return { self: f[11]! + f[12]!, children: f[13]! + f[14]! };
}

/** VmRSS and VmHWM of /proc/<pid>/status, in MiB. */
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

const mib = (n: number) => `${n.toFixed(1)} MiB`;
const seconds = (ticks: number) => `${(ticks / CLOCK_TICKS).toFixed(2)} s`;
const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - performance.now())));

/** The commands a process and its descendants exec'd during `ms`, counted by program + first argument. */
async function execsDuring(pid: number, ms: number, out: string): Promise<Map<string, number>> {
  const strace = spawn('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-o', out, '-p', String(pid)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, ms));
  strace.kill('SIGINT');
  await new Promise((r) => strace.once('exit', r));
  const counts = new Map<string, number>();
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const m = /execve\("([^"]+)", \[([^\]]*)\]/.exec(line);
    if (!m || / = -1 /.test(line)) continue;
    const argv = [...m[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((a) => a[1]!);
    const key = [path.basename(m[1]!), ...argv.slice(1).filter((a) => !a.startsWith('-')).slice(0, 1)].join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** CPU (this process: all its threads, as the daemon's utime+stime counts them) and wall time of fn, median of `runs`. */
async function cost(label: string, fn: () => Promise<unknown> | unknown, runs = 5): Promise<void> {
  const cpu: number[] = [];
  const children: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const before = cpuTicks(process.pid);
    const usage = process.cpuUsage();
    const started = performance.now();
    await fn();
    wall.push(performance.now() - started);
    const used = process.cpuUsage(usage);
    cpu.push((used.user + used.system) / 1000);
    children.push(((cpuTicks(process.pid).children - before.children) * 1000) / CLOCK_TICKS);
  }
  console.log(`  ${label.padEnd(62)} CPU ${formatMs(median(cpu))}${median(children) ? ` + git children ${formatMs(median(children))}` : ''}, wall ${formatMs(median(wall))}`);
}

/** What captureMetadata reads, with lstatSync: what a synchronous walk would cost (the change proposed when the target is missed). */
function lstatSyncWalk(root: string): number {
  let n = 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const stats = lstatSync(path.join(dir, name));
      n++;
      if (stats.isDirectory()) walk(path.join(dir, name));
    }
  };
  walk(root);
  return n;
}

const world = await makeWorld({ ssh: true });
const tracked = path.join(world.root, 'etc', 'app');
mkdirSync(tracked, { recursive: true });
const tree = makeLeafTree(tracked);
world.writeConfig([`pacha.watch = ${tracked}`]);
console.log(`tracked: ${tree.files} files in ${tree.directories} directories; default settings (pacha.frequency ${FREQUENCY_S} s); master: loopback sshd with SetEnv=SHLVL=1 (root's .bashrc skipped)`);
if (QUICK) console.log('PACHA_BENCH_QUICK=1: RSS after 30 s of idling (not 5 minutes), one 60 s CPU window');

const started = performance.now();
console.log(`machine: ${machineLoad()} (at start)`);
const daemon = startDaemon(world.config);
try {
  await daemon.waitFor(/pushed .*app/, { timeoutMs: 300_000 });
  const ready = performance.now();
  const atReady = memory(daemon.pid);
  console.log(`initial scan, commit and push of ${tree.files} files: ${formatMs(ready - started)} from spawn`);
  console.log(`RSS after the initial scan: ${mib(atReady.rss)} (VmHWM ${mib(atReady.hwm)})`);

  // Sample CPU and RSS every second from here on, to split idle cost into the reconcile and the rest.
  const samples: Array<{ at: number; cpu: CpuTicks; rss: number }> = [];
  const sampler = setInterval(() => samples.push({ at: performance.now() - ready, cpu: cpuTicks(daemon.pid), rss: memory(daemon.pid).rss }), 1000);

  const windows: Array<{ from: number; self: number; all: number }> = [];
  const end = WINDOW_OFFSET_S + WINDOWS * FREQUENCY_S;
  for (let w = 0; w < WINDOWS; w++) {
    const from = WINDOW_OFFSET_S + w * FREQUENCY_S;
    await sleepUntil(ready + from * 1000);
    const before = cpuTicks(daemon.pid);
    await sleepUntil(ready + (from + FREQUENCY_S) * 1000);
    const after = cpuTicks(daemon.pid);
    windows.push({ from, self: after.self - before.self, all: after.self + after.children - before.self - before.children });
  }
  clearInterval(sampler);
  const rssAtIdle = samples.filter((s) => s.at <= IDLE_S * 1000).at(-1);
  const peakIdleRss = Math.max(...samples.map((s) => s.rss));
  const final = memory(daemon.pid);
  console.log(`RSS after ${IDLE_S} s of idling: ${mib(rssAtIdle?.rss ?? NaN)}; highest while idle ${mib(peakIdleRss)}; at ${end} s ${mib(final.rss)} (VmHWM ${mib(final.hwm)})`);
  const rssVerdict = Math.max(atReady.rss, rssAtIdle?.rss ?? Infinity) <= TARGET_RSS_MB ? 'met' : 'MISSED';
  console.log(`target RSS ≤ ${TARGET_RSS_MB} MB: ${rssVerdict}`);

  for (const w of windows) {
    console.log(`CPU in idle seconds ${w.from}-${w.from + FREQUENCY_S} (one periodic reconcile): daemon alone ${seconds(w.self)}, with children ${seconds(w.all)}`);
  }
  const worstSelf = Math.max(...windows.map((w) => w.self));
  const worstAll = Math.max(...windows.map((w) => w.all));
  console.log(`CPU per 60 idle seconds, worst window: daemon alone ${seconds(worstSelf)}, with children ${seconds(worstAll)}`);
  console.log(`target CPU ≤ ${TARGET_CPU_S} s per 60 idle s (children included): ${worstAll / CLOCK_TICKS <= TARGET_CPU_S ? 'met' : 'MISSED'}`);

  // Where it goes: the 1-second slices of the first window, the reconcile's spike vs the rest.
  const first = samples.filter((s) => s.at >= WINDOW_OFFSET_S * 1000 && s.at <= (WINDOW_OFFSET_S + FREQUENCY_S) * 1000);
  const slices = first.slice(1).map((s, i) => ({
    at: s.at / 1000,
    ticks: s.cpu.self + s.cpu.children - first[i]!.cpu.self - first[i]!.cpu.children,
  }));
  const busy = slices.filter((s) => s.ticks >= 3);
  const quiet = slices.filter((s) => s.ticks < 3);
  console.log(
    `  in the first window: ${busy.length} busy second(s) (≥ 30 ms) used ${seconds(busy.reduce((n, s) => n + s.ticks, 0))} ` +
      `[${busy.map((s) => `${s.at.toFixed(0)} s: ${seconds(s.ticks)}`).join(', ')}]; the other ${quiet.length} seconds ${seconds(quiet.reduce((n, s) => n + s.ticks, 0))} (median ${seconds(quiet.length ? median(quiet.map((s) => s.ticks)) : 0)}/s)`,
  );

  // One more reconcile, with every exec recorded (strace slows the daemon: no CPU figure from this part).
  const trace = path.join(world.dir, 'reconcile.strace');
  // The reconcile timer was armed before the initial push ended: its phase is that of the busy second seen above.
  const phase = ((busy[0]?.at ?? FREQUENCY_S) - 1) % FREQUENCY_S;
  const now = (performance.now() - ready) / 1000;
  const nextTick = phase + Math.ceil((now + 10 - phase) / FREQUENCY_S) * FREQUENCY_S;
  await sleepUntil(ready + (nextTick - 10) * 1000);
  const execs = await execsDuring(daemon.pid, 20_000, trace);
  const total = [...execs.values()].reduce((a, b) => a + b, 0);
  console.log(`one idle reconcile (strace -f -e trace=execve, 20 s around the tick due at ${nextTick.toFixed(0)} s): ${total} exec(s): ${[...execs].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}`);
  console.log(`machine: ${machineLoad()} (at end)`);
} finally {
  const code = await daemon.stop();
  if (code !== 0) console.log(`daemon exited ${code}; last lines:\n${daemon.lines.slice(-10).map((l) => l.text).join('\n')}`);
}

console.log(`the parts of one idle reconcile of ${tree.files} files, in this process (median of 5; ${machineLoad()}):`);
const store = await Store.open(world.stateDir, 'bar');
const trackedPath = (await store.list()).find((t) => t.location === tracked)!;
const accounts = await loadAccounts('/');
const metadata = await captureMetadata({ location: tracked, single: false, host: 'bar', accounts });
await cost('watcher resync: walkDirectories (readdir of every directory)', () => walkDirectories(tracked));
await cost(`captureMetadata: ${metadata.entries.length} entries (lstatSync, a yield per directory)`, () => captureMetadata({ location: tracked, single: false, host: 'bar', accounts }));
const shards = shardCount(metadata.entries.length);
const files = metadataFiles(metadata, shards);
await cost(`metadataFiles (${(files.reduce((n, f) => n + Buffer.byteLength(f.text), 0) / 1048576).toFixed(1)} MiB in ${files.length} files)`, () => metadataFiles(metadata, shards));
await cost('store.commit() with nothing to commit (capture + 6 git processes)', () => store.commit(trackedPath));
await cost('for comparison: the same entries read with readdirSync + lstatSync', () => lstatSyncWalk(tracked));
