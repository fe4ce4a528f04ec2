// Idle CPU of `pacha daemon` (issue 14, target 5): default settings (pacha.frequency 60 s),
// trees of 1,000 and 10,000 files (10 a directory), a local master, nothing written once the
// first commit is pushed. CPU-seconds from /proc/<pid>/stat (utime+stime of the daemon and
// cutime+cstime of the children it reaped), in 60-s windows from the moment it is ready.
// What wakes an idle daemon is the periodic reconcile (a walk of every tracked path); its
// period stretches from pacha.frequency to 8× it while the walks find nothing inotify missed
// (src/daemon/reconcile-pace.ts), so the steady state is reached after 1+2+4 minutes: the
// figure to quote is the mean over the windows from minute 8 (and the whole run's mean, and
// the worst window, beside it). The anchor, lsyncd idle on the same tree, takes 0.00 CPU-s
// (issue 14's measurement; bench/propagation.bench.ts runs lsyncd).
// Goal: ≤ 0.1 CPU-s per 60 s at the default frequency, steady state, on both trees.
//   node --import tsx bench/idle.bench.ts     (PACHA_BENCH_IDLE_MIN=16 minutes by default; both trees at once)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { machineLoad, startDaemon, type DaemonProcess } from './lib/daemon.js';

const MINUTES = Number(process.env.PACHA_BENCH_IDLE_MIN ?? 16);
const STEADY_FROM = 8; // minutes: reconciles at 1, 3 and 7 min, then every 8
const TARGET_CPU_S = 0.1;
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/** utime+stime+cutime+cstime of pid, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, so index 11.
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / CLOCK_TICKS;
}

function makeTree(root: string, files: number): void {
  for (let d = 0; d < files / 10; d++) {
    const dir = path.join(root, `d${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 10; f++) writeFileSync(path.join(dir, `f${f}.conf`), `key = ${d}.${f}\n`);
  }
}

const work = mkdtempSync(path.join(os.tmpdir(), 'pacha-bench-idle-'));
const daemons: Array<{ files: number; daemon: DaemonProcess }> = [];
try {
  for (const files of [1_000, 10_000]) {
    const dir = path.join(work, String(files));
    makeTree(path.join(dir, 'tree'), files);
    mkdirSync(path.join(dir, 'master'));
    const config = path.join(dir, 'pacha.conf');
    writeFileSync(config, ['[DEFAULT]', 'pacha.host = local', `pacha.hosts.path = ${path.join(dir, 'master')}`, 'pacha.hostname = idle', `pacha.state.path = ${path.join(dir, 'state')}`, `pacha.watch = ${path.join(dir, 'tree')}`, ''].join('\n'));
    daemons.push({ files, daemon: startDaemon(config) });
  }
  for (const { daemon } of daemons) await daemon.waitFor(/pacha: pushed /, { timeoutMs: 600_000 });
  console.log(`idle daemon, default settings, ${MINUTES} one-minute windows from ready (node ${process.version}, ${machineLoad()})`);
  const windows = daemons.map((): number[] => []);
  let previous = daemons.map(({ daemon }) => cpuSeconds(daemon.pid));
  for (let minute = 1; minute <= MINUTES; minute++) {
    await new Promise((r) => setTimeout(r, 60_000));
    const now = daemons.map(({ daemon }) => cpuSeconds(daemon.pid));
    now.forEach((c, i) => windows[i]!.push(c - previous[i]!));
    previous = now;
    console.log(`  minute ${String(minute).padStart(2)}: ${daemons.map(({ files }, i) => `${files} files ${windows[i]!.at(-1)!.toFixed(2)} CPU-s`).join(', ')}  (${machineLoad()})`);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  for (const [i, { files }] of daemons.entries()) {
    const steady = windows[i]!.slice(STEADY_FROM);
    const verdict = steady.length ? (mean(steady) <= TARGET_CPU_S ? 'met' : 'NOT met') : 'not reached (run longer)';
    console.log(
      `${String(files).padStart(6)} files: steady state (minute ${STEADY_FROM + 1} on) ${mean(steady).toFixed(3)} CPU-s per 60 s; whole run ${mean(windows[i]!).toFixed(3)}; worst window ${Math.max(...windows[i]!).toFixed(2)}; goal ≤ ${TARGET_CPU_S}: ${verdict}`,
    );
  }
} finally {
  for (const { daemon } of daemons) await daemon.stop();
  rmSync(work, { recursive: true, force: true });
}
