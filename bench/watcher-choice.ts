// Which watcher? Measures, for 10,000 files in 1,000 leaf directories (1,111 directories in
// all, three levels deep): setup time, RSS, inotify watches, idle CPU, and the latency of an
// edit in the deepest directory. Each candidate runs in its own process, one after another.
//   node --import tsx bench/watcher-choice.ts        (PACHA_BENCH_IDLE_S=20 by default)
// @parcel/watcher is not a candidate: it is a native addon, which the single-file bundle
// (issue 5) cannot carry.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { watch as fsWatch } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CANDIDATES = ['baseline (no watcher)', 'fs.watch per directory (pacha TreeWatcher)', 'chokidar 5', 'fs.watch recursive (Node 20, JS-emulated)'] as const;
type Candidate = (typeof CANDIDATES)[number];
const IDLE_S = Number(process.env.PACHA_BENCH_IDLE_S ?? 20);
const EDITS = 20;
const DEEP_FILE = ['d9', 'd9', 'd9', 'f9.conf'];

interface Figures {
  candidate: Candidate;
  setupMs: number;
  rssMb: number;
  rssGrowthMb: number;
  inotifyWatches: number;
  idleCpuMs: number;
  latencyMs: { p50: number; max: number; missed: number };
}

function makeTree(root: string): void {
  for (let a = 0; a < 10; a++)
    for (let b = 0; b < 10; b++)
      for (let c = 0; c < 10; c++) {
        const dir = path.join(root, `d${a}`, `d${b}`, `d${c}`);
        mkdirSync(dir, { recursive: true });
        for (let f = 0; f < 10; f++) writeFileSync(path.join(dir, `f${f}.conf`), `key = ${a}${b}${c}${f}\n`);
      }
}

/** inotify watches held by this process (from /proc/self/fdinfo). */
function countInotifyWatches(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (!readlinkSync(`/proc/self/fd/${fd}`).includes('inotify')) continue;
      n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
    } catch {
      /* fd closed meanwhile */
    }
  }
  return n;
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startCandidate(candidate: Candidate, root: string, onEvent: (file: string) => void): Promise<void> {
  switch (candidate) {
    case 'baseline (no watcher)':
      return; // the same process with nothing watched: what the figures above it add
    case 'fs.watch per directory (pacha TreeWatcher)': {
      const { TreeWatcher } = await import('../src/daemon/watcher.js');
      const w = new TreeWatcher(root);
      w.on('change', onEvent);
      await w.start();
      return;
    }
    case 'chokidar 5': {
      const { watch } = await import('chokidar');
      const w = watch(root, { ignoreInitial: true });
      w.on('all', (_e, file) => onEvent(file));
      await new Promise<void>((resolve) => w.once('ready', () => resolve()));
      return;
    }
    case 'fs.watch recursive (Node 20, JS-emulated)': {
      const w = fsWatch(root, { recursive: true }, (_t, name) => onEvent(path.join(root, String(name))));
      // The emulation walks the tree asynchronously after returning; no "ready" signal.
      // Wait until an edit in the deepest directory is seen, which bounds setup from above.
      void w;
      const probe = path.join(root, ...DEEP_FILE);
      let seen = false;
      const listener = (file: string) => {
        if (file === probe) seen = true;
      };
      probeListeners.add(listener);
      while (!seen) {
        writeFileSync(probe, `probe ${Date.now()}\n`);
        await wait(20);
      }
      probeListeners.delete(listener);
      return;
    }
  }
}
const probeListeners = new Set<(file: string) => void>();

async function child(candidate: Candidate, root: string): Promise<void> {
  const deep = path.join(root, ...DEEP_FILE);
  let waiting: ((file: string) => void) | undefined;
  const onEvent = (file: string) => {
    for (const l of probeListeners) l(file);
    waiting?.(file);
  };
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  await startCandidate(candidate, root, onEvent);
  const setupMs = performance.now() - t0;
  await wait(500); // let the setup's garbage settle before reading RSS and idle CPU
  const rss = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  await wait(IDLE_S * 1000);
  const cpu = process.cpuUsage(cpu0);
  const latencies: number[] = [];
  let missed = 0;
  for (let i = 0; i < EDITS && candidate !== 'baseline (no watcher)'; i++) {
    const seen = new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(-1), 3000);
      waiting = (file) => {
        if (file !== deep) return;
        clearTimeout(timer);
        resolve(performance.now());
      };
    });
    const t = performance.now();
    writeFileSync(deep, `edit ${i}\n`);
    const at = await seen;
    waiting = undefined;
    if (at < 0) missed++;
    else latencies.push(at - t);
    await wait(100);
  }
  latencies.sort((a, b) => a - b);
  const figures: Figures = {
    candidate,
    setupMs: Math.round(setupMs),
    rssMb: mb(rss),
    rssGrowthMb: mb(rss - rss0),
    inotifyWatches: countInotifyWatches(),
    idleCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    latencyMs: {
      p50: Math.round((latencies[Math.floor(latencies.length / 2)] ?? NaN) * 10) / 10,
      max: Math.round((latencies.at(-1) ?? NaN) * 10) / 10,
      missed,
    },
  };
  process.stdout.write(JSON.stringify(figures) + '\n');
  process.exit(0);
}

function main(): void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pacha-bench-watch-'));
  try {
    makeTree(root);
    console.log(`watcher choice: 10,000 files in 1,000 leaf dirs (1,111 dirs), idle ${IDLE_S} s, ${EDITS} edits of ${DEEP_FILE.join('/')}`);
    const self = fileURLToPath(import.meta.url);
    for (const candidate of CANDIDATES) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', candidate, root], {
        encoding: 'utf8',
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
      });
      const line = r.stdout.trim().split('\n').at(-1);
      if (r.status !== 0 || !line) {
        console.log(`${candidate}: failed (exit ${r.status}) ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
        continue;
      }
      const f = JSON.parse(line) as Figures;
      console.log(
        `${f.candidate}: setup ${f.setupMs} ms, RSS ${f.rssMb} MB (+${f.rssGrowthMb} MB), ${f.inotifyWatches} inotify watches, ` +
          `idle CPU ${f.idleCpuMs} ms / ${IDLE_S} s` +
          (f.candidate === 'baseline (no watcher)' ? '' : `, edit latency p50 ${f.latencyMs.p50} ms max ${f.latencyMs.max} ms, missed ${f.latencyMs.missed}/${EDITS}`),
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') void child(process.argv[3] as Candidate, process.argv[4]!);
else main();
