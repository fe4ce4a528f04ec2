// Cost per change (issue 14, targets 1 and 3): one edit on a 1k-, 10k- and 50k-file tree,
// with `pacha daemon` at its defaults against a master on a loopback sshd (SetEnv=SHLVL=1:
// root's ~/.bashrc skipped, TESTING.md), write → new content in the master's working copy.
// Goal: the 50k-file figure ≤ 1.2 × the 1k-file figure (p50), i.e. the cost of an edit does
// not grow with the tree; the anchor is pacha itself on the small tree, in the same run.
// Each figure is split where the daemon's "committed" line reached this process: before it,
// the daemon's commit; after it, the push and the master's update of its working copy.
// Then, on the smallest tree, the processes one edit costs (commit and push), counted with
// `strace -f -e trace=execve` attached to the daemon: goal ≤ 8.
// Then the daemon's memory (issue 14, target 5: RSS ≤ 60 MiB at 10k files, ≤ 100 MiB at 50k):
// on each tree, two fresh starts on what was just pushed, each with the same edits, one with
// node's defaults and one with the node options the systemd units set (NODE_OPTIONS), their
// RSS idle after the start and after the edits (anonymous and file-backed pages apart), the
// CPU-s the edits cost, and
// the processes the daemon keeps (its children, and the ControlMaster git's pushes share,
// which detaches but lives as long as the daemon); the anchor: a bare `node` idling, same run.
// "node defaults" is a daemon started by hand: it still sets its own V8 settings when it
// starts (src/daemon/memory.ts), which the units' NODE_OPTIONS add to from node's start.
//   npm run build && node --import tsx bench/cost-per-change.bench.ts
//   PACHA_BENCH_SIZES=1000,10000,50000 (files)  PACHA_BENCH_EDITS=15 (edits per size, 1 s apart)
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeWorld } from '../test/helpers/world.js';
import { machineLoad, pollUntil, readOr, startDaemon, type DaemonProcess } from './lib/daemon.js';
import { formatMs, median, percentile } from './lib/stats.js';
import { controlMastersUnder, cpuSecondsOf, descendantsOf, rssOf, unitNodeArgs, type KeptProcess, type Rss } from './lib/process-memory.js';

const SIZES = (process.env.PACHA_BENCH_SIZES ?? '1000,10000,50000').split(',').map(Number);
const EDITS = Number(process.env.PACHA_BENCH_EDITS ?? 15);
const RATIO_GOAL = 1.2;
const PROCESS_GOAL = 8;

/** `files` small files, 10 per directory, 10 directories per level. */
function makeTree(root: string, files: number): void {
  for (let i = 0; i < files; i++) {
    const leaf = Math.floor(i / 10);
    const dir = path.join(root, `d${Math.floor(leaf / 100)}`, `d${Math.floor(leaf / 10) % 10}`, `d${leaf % 10}`);
    if (i % 10 === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `f${i % 10}.conf`), `key = ${i}\n`);
  }
}

/**
 * Start strace on a running process and the processes it keeps (the shell its getfattr runs
 * from); returns a stop function resolving with the execve'd programs.
 */
async function traceExecs(pid: number, out: string): Promise<() => Promise<string[]>> {
  const pids = [pid, ...descendantsOf(pid).map((k) => k.pid)].flatMap((p) => ['-p', String(p)]);
  const strace = spawn('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-o', out, ...pids], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500)); // attached to every thread
  return async () => {
    strace.kill('SIGINT');
    await new Promise((r) => strace.once('exit', r));
    return readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => /execve\(/.test(l) && / = 0$/.test(l))
      .map((l) => {
        const argv = /execve\("[^"]*", \[(.*?)\]/.exec(l)?.[1] ?? '';
        return argv.split('", "').slice(0, 2).join(' ').replace(/"/g, '');
      });
  };
}

const results: Array<{ files: number; p50: number; p95: number; max: number; rss: number; commitP50: number }> = [];
const RSS_GOALS: Record<number, number> = { 10_000: 60, 50_000: 100 };
const UNIT_NODE_ARGS = unitNodeArgs();
const memoryRows: Array<{ files: number; how: string; bare: Rss; started: Rss; rss: Rss; cpu: number; kept: KeptProcess[] }> = [];

/**
 * Resolves once the process used under 0.05 CPU-s in a second with no child but the shell
 * its getfattr runs from (its start reconcile done: under load the daemon idles for seconds
 * while its git processes work), or after 180 s.
 */
async function settled(pid: number): Promise<void> {
  for (let i = 0, before = cpuSecondsOf(pid); i < 180; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpuSecondsOf(pid);
    const working = descendantsOf(pid).some((p) => !['sh', 'getfattr'].includes(p.command.split(' ')[0]!.split('/').pop()!));
    if (now - before < 0.05 && !working) return;
    before = now;
  }
}

/** RSS of a bare node idling (the anchor: what any node process costs here). */
async function bareNodeRss(): Promise<Rss> {
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1500));
  const rss = rssOf(bare.pid!);
  bare.kill();
  return rss;
}

let edits = 0;
/** EDITS edits 1 s apart, each waited for on the master; write → on the master, ms (and write → "committed" logged, when the daemon is given). */
async function editAndWait(file: string, onMaster: string, daemon?: DaemonProcess, toCommit: number[] = []): Promise<number[]> {
  const total: number[] = [];
  for (let i = 1; i <= EDITS; i++) {
    const content = `key = edit ${++edits} ${Date.now()}\n`;
    const started = performance.now();
    writeFileSync(file, content);
    const arrived = await pollUntil(() => readOr(onMaster) === content, { everyMs: 5, timeoutMs: 60_000, what: `edit ${edits} on the master` });
    total.push(arrived - started);
    if (daemon) toCommit.push((await daemon.waitFor(/committed .*app/, { since: started })).at - started);
    const rest = started + 1000 - performance.now();
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  }
  return total;
}

let processes: string[] | undefined;
console.log(`machine: ${machineLoad()} (at start); ${EDITS} edits per tree, 1 s apart; the units' node options: ${UNIT_NODE_ARGS.join(' ') || '(none)'}`);
for (const files of SIZES) {
  const world = await makeWorld({ ssh: true });
  const tracked = path.join(world.root, 'etc', 'app');
  makeTree(tracked, files);
  world.writeConfig([`pacha.watch = ${tracked}`]);
  const file = path.join(tracked, 'd0', 'd0', 'd0', 'f1.conf');
  const onMaster = path.join(world.masterDir, 'bar', 'app', 'd0', 'd0', 'd0', 'f1.conf');
  const daemon = startDaemon(world.config, [], UNIT_NODE_ARGS);
  try {
    await daemon.waitFor(/pushed .*app/, { timeoutMs: 600_000 });
    await new Promise((r) => setTimeout(r, 2000));
    const toCommit: number[] = [];
    const total = await editAndWait(file, onMaster, daemon, toCommit);
    results.push({ files, p50: median(total), p95: percentile(total, 95), max: Math.max(...total), rss: rssOf(daemon.pid).total, commitP50: median(toCommit) });
    console.log(
      `${files} files: write → on the master p50 ${formatMs(median(total))}, p95 ${formatMs(percentile(total, 95))}, max ${formatMs(Math.max(...total))}; ` +
        `write → "committed" p50 ${formatMs(median(toCommit))} (${machineLoad()})`,
    );
    if (!processes) {
      const stop = await traceExecs(daemon.pid, path.join(world.dir, 'execve.log'));
      const content = `key = traced ${Date.now()}\n`;
      writeFileSync(file, content);
      await pollUntil(() => readOr(onMaster) === content, { everyMs: 5, timeoutMs: 60_000, what: 'the traced edit on the master' });
      await daemon.waitFor(/pushed .*app/, { since: performance.now() - 5000 });
      await new Promise((r) => setTimeout(r, 300));
      processes = await stop();
    }
  } finally {
    await daemon.stop();
  }
  try {
    for (const [how, nodeArgs] of [['node defaults', []], ['as the units start it', UNIT_NODE_ARGS]] as const) {
      const bare = await bareNodeRss();
      const again = startDaemon(world.config, [], [...nodeArgs]);
      try {
        await again.waitFor(/watching/, { timeoutMs: 600_000 });
        await settled(again.pid);
        const started = rssOf(again.pid);
        const cpuBefore = cpuSecondsOf(again.pid);
        await editAndWait(file, onMaster);
        const cpu = cpuSecondsOf(again.pid) - cpuBefore;
        const kept = [...descendantsOf(again.pid), ...controlMastersUnder(world.stateDir)];
        memoryRows.push({ files, how, bare, started, rss: rssOf(again.pid), cpu, kept });
      } finally {
        await again.stop();
      }
    }
  } finally {
    await world.sshd?.stop();
  }
}

const small = results[0]!;
console.log('\n| files | p50 | p95 | max | p50 ratio to the smallest tree | of the p50: until "committed" | daemon RSS after the edits |\n|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.files} | ${formatMs(r.p50)} | ${formatMs(r.p95)} | ${formatMs(r.max)} | ${(r.p50 / small.p50).toFixed(2)} | ${formatMs(r.commitP50)} (ratio ${(r.commitP50 / small.commitP50).toFixed(2)}) | ${r.rss.toFixed(1)} MiB |`);
}
console.log(`\nDaemon memory idle after its start (its full commit done, CPU quiet) and after ${EDITS} edits (a fresh start on each tree; RSS = anonymous + file-backed pages; private: the pages no other process maps; kept: its children and the ControlMaster git's pushes share)`);
console.log('| files | node options | daemon RSS idle after its start | daemon RSS after the edits (anon + file) | of which private | CPU-s over the edits | kept processes | daemon + kept | bare node, same run (private) | goal |\n|---|---|---|---|---|---|---|---|---|---|');
for (const r of memoryRows) {
  const kept = r.kept.reduce((sum, p) => sum + p.rss, 0);
  const goal = RSS_GOALS[r.files];
  const verdict = goal === undefined ? '' : `≤ ${goal} MiB: ${r.rss.total + kept <= goal ? 'met' : 'MISSED'}`;
  console.log(
    `| ${r.files} | ${r.how === 'node defaults' ? '(node defaults)' : UNIT_NODE_ARGS.join(' ')} | ${r.started.total.toFixed(1)} MiB | ${r.rss.total.toFixed(1)} MiB (${r.rss.anon.toFixed(1)} + ${r.rss.file.toFixed(1)}) | ${r.rss.private.toFixed(1)} MiB | ${r.cpu.toFixed(2)} | ` +
      `${r.kept.map((p) => `${p.command.split(' ')[0]} ${p.rss.toFixed(1)}`).join(', ') || 'none'} | ${(r.rss.total + kept).toFixed(1)} MiB | ${r.bare.total.toFixed(1)} MiB (${r.bare.anon.toFixed(1)} + ${r.bare.file.toFixed(1)}; ${r.bare.private.toFixed(1)}) | ${verdict} |`,
  );
}
console.log('RSS goals (issue 14): ≤ 60 MiB at 10k files, ≤ 100 MiB at 50k (the footprint bench measures idle RSS and CPU)');
const largest = results.at(-1)!;
console.log(`goal: p50 at ${largest.files} files ≤ ${RATIO_GOAL} × p50 at ${small.files}: ${largest.p50 / small.p50 <= RATIO_GOAL ? 'met' : 'MISSED'} (${(largest.p50 / small.p50).toFixed(2)})`);
if (processes) {
  console.log(`processes started for one edit (commit and push), strace -f -e trace=execve on the daemon: ${processes.length} (goal ≤ ${PROCESS_GOAL}: ${processes.length <= PROCESS_GOAL ? 'met' : 'MISSED'})`);
  for (const p of processes) console.log(`  ${p}`);
}
console.log(`machine: ${machineLoad()} (at end; 2 cores shared with other work: latencies are noisy)`);
