// Cold start of the built CLI (issue 2: `pacha --version`, median of 10, target ≤ 200 ms).
// Each run is a fresh `node dist/cli/main.js …` process timed from spawn to exit; one
// untimed run first so the figures are of a warm page cache (as on a server that has run
// pacha before), not of the first read of node_modules from disk. `node -e 0` is the floor
// no CLI can beat. When the median is over target, a CPU profile of one run names the
// modules that take the time.
//   node --import tsx bench/cold-start.bench.ts      (PACHA_BENCH_RUNS=10 by default)
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, cleanEnv, REPO_ROOT } from './lib/pacha.js';
import { runOk, runTimed } from './lib/run-timed.js';
import { formatSummary, summarize, type Summary } from './lib/stats.js';

const RUNS = Number(process.env.PACHA_BENCH_RUNS ?? 10);
const TARGET_MS = 200;

const work = mkdtempSync(path.join(os.tmpdir(), 'pacha-bench-cold-'));
const config = path.join(work, 'pacha.conf');
writeFileSync(config, ['[DEFAULT]', 'pacha.host = local', `pacha.hosts.path = ${path.join(work, 'master')}`, 'pacha.hostname = bar', `pacha.state.path = ${path.join(work, 'state')}`, 'pacha.frequency = 12', ''].join('\n'));

const cases: Array<{ label: string; args: string[]; targeted: boolean }> = [
  { label: 'node -e 0 (floor)', args: ['-e', '0'], targeted: false },
  { label: 'pacha --version', args: [CLI, '--version'], targeted: true },
  { label: 'pacha --help', args: [CLI, '--help'], targeted: false },
  { label: 'pacha config (small config file)', args: [CLI, '-c', config, 'config'], targeted: false },
];

async function measure(args: string[]): Promise<{ summary: Summary; rssKib: number }> {
  const env = cleanEnv();
  await runOk(process.execPath, args, { env, cwd: work }); // warm the page cache, check it works
  const times: number[] = [];
  let rssKib = 0;
  for (let i = 0; i < RUNS; i++) {
    const run = await runOk(process.execPath, args, { env, cwd: work, peakRss: true });
    times.push(run.ms);
    rssKib = Math.max(rssKib, run.maxRssKib ?? 0);
  }
  return { summary: summarize(times), rssKib };
}

/** The modules (by package, or dist/ file) whose own code took the most CPU in one profiled run. */
async function profile(args: string[]): Promise<string[]> {
  const dir = path.join(work, 'prof');
  await runTimed(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, ...args], { env: cleanEnv(), cwd: work });
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return ['(no profile written)'];
  const prof = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { url: string } }>;
    samples: number[];
    timeDeltas: number[];
  };
  const urlOf = new Map(prof.nodes.map((n) => [n.id, n.callFrame.url]));
  const byModule = new Map<string, number>();
  prof.samples.forEach((id, i) => {
    const url = urlOf.get(id) || '(node internals / idle)';
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    const key = match ? match[1]! : url.replace(`file://${REPO_ROOT}/`, '');
    byModule.set(key, (byModule.get(key) ?? 0) + (prof.timeDeltas[i] ?? 0) / 1000);
  });
  return [...byModule.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([k, ms]) => `${ms.toFixed(1).padStart(7)} ms  ${k}`);
}

try {
  console.log(`cold start, ${RUNS} runs each after one warm-up (node ${process.version}, ${os.cpus().length} CPUs)`);
  let over = false;
  for (const c of cases) {
    const { summary, rssKib } = await measure(c.args);
    const verdict = c.targeted ? (summary.median <= TARGET_MS ? `  target ≤ ${TARGET_MS} ms: met` : `  target ≤ ${TARGET_MS} ms: OVER`) : '';
    if (c.targeted && summary.median > TARGET_MS) over = true;
    console.log(`${c.label.padEnd(34)} ${formatSummary(summary)}, peak RSS ${(rssKib / 1024).toFixed(0)} MiB${verdict}`);
  }
  if (over || process.env.PACHA_BENCH_PROFILE) {
    console.log('\nwhere `pacha --version` spends its CPU (one --cpu-prof run, self time by module):');
    for (const line of await profile([CLI, '--version'])) console.log(`  ${line}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
