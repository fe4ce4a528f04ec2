// The one-file bundle (`npm run bundle`, what packer/install.sh puts on an image): its size
// (bytes, KiB, gzip -9 as a download or a compressed image layer would carry it) and its
// cold start against the tsc build with node_modules (`node dist/cli/main.js`).
// Each figure is the median of PACHA_BENCH_RUNS (10) fresh processes timed from spawn to
// exit, after one untimed run so the page cache is warm (a server that has run pacha
// before); the cases take turns, round by round. The bundle runs from an otherwise empty directory with a bare environment, as on
// an image. `node -e 0` is the floor. On Node ≥ 22.1 the bundle is also timed with
// NODE_COMPILE_CACHE (V8's code cache on disk, second run onwards), an option for images.
//   node --import tsx bench/bundle.bench.ts
//   "$(node scripts/node22.mjs)" --import tsx bench/bundle.bench.ts     (the same on Node 22)
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLI, REPO_ROOT } from './lib/pacha.js';
import { runOk } from './lib/run-timed.js';
import { formatMs, formatSummary, summarize, type Summary } from './lib/stats.js';

const RUNS = Number(process.env.PACHA_BENCH_RUNS ?? 10);
const work = mkdtempSync(path.join(os.tmpdir(), 'pacha-bench-bundle-'));

/** What a bare image gives a process: PATH and HOME, nothing from this checkout or shell. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: work, ...extra };
}

interface Case {
  label: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Every case once per round, round after round, rather than one case's runs in a row: on a
 * shared machine a burst of load then slows every case alike instead of one of them.
 */
async function measureInterleaved(cases: readonly Case[]): Promise<Array<{ summary: Summary; rssKib: number }>> {
  for (const c of cases) await runOk(process.execPath, c.args, c); // warm the page cache (and the compile cache), and check it works
  const times = cases.map((): number[] => []);
  const rss = cases.map(() => 0);
  for (let round = 0; round < RUNS; round++) {
    for (const [i, c] of cases.entries()) {
      const run = await runOk(process.execPath, c.args, { cwd: c.cwd, env: c.env, peakRss: true });
      times[i]!.push(run.ms);
      rss[i] = Math.max(rss[i]!, run.maxRssKib ?? 0);
    }
  }
  return cases.map((_, i) => ({ summary: summarize(times[i]!), rssKib: rss[i]! }));
}

/**
 * Bytes of the bundle by package ("@aws-sdk/client-ssm", "pacha (src/)"): esbuild heads each
 * module it inlines with a `// path` comment, so the text between two such lines is one
 * module's (plus a little glue). Says where to look if the size or the parse time grows.
 */
function bytesByPackage(text: string): Array<[string, number]> {
  const totals = new Map<string, number>();
  let owner = '(banner and glue)';
  for (const line of text.split('\n')) {
    const marker = /^\/\/ (\S+\.(?:[cm]?js|ts|json))$/.exec(line);
    if (marker) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(marker[1]!);
      owner = pkg ? pkg[1]! : /(^|\/)src\//.test(marker[1]!) ? 'pacha (src/)' : marker[1]!;
    }
    totals.set(owner, (totals.get(owner) ?? 0) + Buffer.byteLength(line) + 1);
  }
  return [...totals.entries()].sort((a, b) => b[1] - a[1]);
}

function sizeLine(label: string, bytes: number): string {
  return `${label.padEnd(22)} ${String(bytes).padStart(9)} bytes  ${(bytes / 1024).toFixed(1).padStart(8)} KiB`;
}

/** Node's module compile cache (NODE_COMPILE_CACHE) exists from 22.1. */
function hasCompileCache(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 1);
}

try {
  // Build exactly as `npm run bundle` does, into a scratch file; then alone in an empty directory.
  const built = path.join(work, 'out', 'pacha.mjs');
  const build = await runOk(process.execPath, [path.join(REPO_ROOT, 'scripts', 'bundle.mjs'), '--outfile', built], { cwd: REPO_ROOT });
  const image = path.join(work, 'image');
  mkdirSync(image);
  const bundle = path.join(image, 'pacha.mjs');
  copyFileSync(built, bundle);
  const bytes = statSync(bundle).size;
  const gzipBytes = gzipSync(readFileSync(bundle), { level: 9 }).length;
  const inputs = /(\d+) inputs/.exec(build.stdout)?.[1] ?? '?';

  console.log(`bundle: scripts/bundle.mjs built ${inputs} inputs in ${formatMs(build.ms)}`);
  console.log(sizeLine('bundle (pacha.mjs)', bytes));
  console.log(`${sizeLine('bundle, gzip -9', gzipBytes)}  (${((gzipBytes / bytes) * 100).toFixed(0)} %)`);
  const byPackage = bytesByPackage(readFileSync(bundle, 'utf8'));
  console.log('largest parts:');
  for (const [owner, n] of byPackage.slice(0, 8)) console.log(`  ${sizeLine(owner, n)}  ${((n / bytes) * 100).toFixed(0).padStart(3)} %`);

  console.log(`\ncold start, ${RUNS} runs each after one warm-up (node ${process.version}, ${os.cpus().length} CPUs)`);
  const compileCache = path.join(work, 'compile-cache');
  const cases: Case[] = [
    { label: 'node -e 0 (floor)', args: ['-e', '0'], cwd: image, env: bareEnv() },
    { label: 'bundle --version', args: [bundle, '--version'], cwd: image, env: bareEnv() },
    { label: 'dist/cli/main.js --version', args: [CLI, '--version'], cwd: work, env: bareEnv() },
    { label: 'bundle --help', args: [bundle, '--help'], cwd: image, env: bareEnv() },
    { label: 'dist/cli/main.js --help', args: [CLI, '--help'], cwd: work, env: bareEnv() },
  ];
  if (hasCompileCache()) {
    cases.push(
      { label: 'bundle --version, compile cache', args: [bundle, '--version'], cwd: image, env: bareEnv({ NODE_COMPILE_CACHE: compileCache }) },
      { label: 'bundle --help, compile cache', args: [bundle, '--help'], cwd: image, env: bareEnv({ NODE_COMPILE_CACHE: compileCache }) },
    );
  }
  const medians = new Map<string, number>();
  for (const [i, { summary, rssKib }] of (await measureInterleaved(cases)).entries()) {
    medians.set(cases[i]!.label, summary.median);
    console.log(`${cases[i]!.label.padEnd(32)} ${formatSummary(summary)}, peak RSS ${(rssKib / 1024).toFixed(0)} MiB`);
  }
  for (const flag of ['--version', '--help']) {
    const one = medians.get(`bundle ${flag}`)!;
    const many = medians.get(`dist/cli/main.js ${flag}`)!;
    const delta = one - many;
    console.log(`${flag}: the bundle is ${formatMs(Math.abs(delta))} ${delta <= 0 ? 'faster' : 'slower'} than dist/ + node_modules (median ${formatMs(one)} vs ${formatMs(many)})`);
  }
  if (!hasCompileCache()) console.log('(NODE_COMPILE_CACHE needs Node ≥ 22.1: not measured on this node)');
} finally {
  rmSync(work, { recursive: true, force: true });
}
