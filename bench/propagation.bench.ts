// Propagation (issue 3): how long from writing a tracked file to its new content in the
// master's working copy, with `pacha daemon` running at its default settings
// (pacha.push.delay 200 ms, pacha.push.max_delay 2000 ms) against a master on a loopback sshd.
// 100 single-file edits, one every second (each edit starts 1 s after the previous one
// started); after each write the master's file is read every ~5 ms until it holds the new
// content. Target: p95 ≤ 1 s (lsyncd's default delay is 15 s).
// Each latency is also split at the moment the daemon's "committed" log line reached this
// process: write → committed (debounce + capture + git commit), committed → on the master
// (push over the shared SSH connection + the master's updateInstead checkout).
// The sshd is test/helpers/sshd.ts's, started with SetEnv=SHLVL=1, which skips root's
// ~/.bashrc (pyenv, ~74 ms per remote command on these machines; TESTING.md): figures are
// of a master whose login shell starts quickly.
//   node --import tsx bench/propagation.bench.ts    (after `npm run build`; PACHA_BENCH_EDITS=100)
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeWorld } from '../test/helpers/world.js';
import { machineLoad, pollUntil, readOr, startDaemon } from './lib/daemon.js';
import { formatMs, median, percentile } from './lib/stats.js';

const EDITS = Number(process.env.PACHA_BENCH_EDITS ?? 100);
const INTERVAL_MS = 1000;
const POLL_MS = 5;
const TARGET_P95_MS = 1000;

const world = await makeWorld({ ssh: true });
const tracked = path.join(world.root, 'etc', 'app');
mkdirSync(path.join(tracked, 'sub'), { recursive: true });
for (const name of ['main.conf', 'sub/a.conf', 'sub/b.conf']) writeFileSync(path.join(tracked, name), `${name} = 0\n`);
world.writeConfig([`pacha.watch = ${tracked}`]);
const file = path.join(tracked, 'sub', 'a.conf');
const onMaster = path.join(world.masterDir, 'bar', 'app', 'sub', 'a.conf');

console.log(`machine: ${machineLoad()} (at start)`);
const daemon = startDaemon(world.config);
try {
  await daemon.waitFor(/pushed .*app/, { timeoutMs: 60_000 });
  console.log(`pacha daemon (PID ${daemon.pid}), defaults push.delay 200 ms / max_delay 2000 ms; master: loopback sshd with SetEnv=SHLVL=1 (root's .bashrc skipped)`);
  console.log(`${EDITS} edits of ${path.relative(world.root, file)}, one every ${INTERVAL_MS} ms; master polled every ${POLL_MS} ms`);

  const total: number[] = [];
  const toCommit: number[] = [];
  const toMaster: number[] = [];
  for (let i = 1; i <= EDITS; i++) {
    const content = `a = ${i} ${Date.now()}\n`;
    const started = performance.now();
    writeFileSync(file, content);
    const arrived = await pollUntil(() => readOr(onMaster) === content, { everyMs: POLL_MS, timeoutMs: 60_000, what: `edit ${i} on the master` });
    total.push(arrived - started);
    const committed = await daemon.waitFor(/committed .*app/, { since: started, timeoutMs: 10_000 });
    toCommit.push(committed.at - started);
    toMaster.push(arrived - committed.at);
    const rest = started + INTERVAL_MS - performance.now();
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  }

  const p95 = percentile(total, 95);
  console.log(`write → content on the master: p50 ${formatMs(median(total))}, p95 ${formatMs(p95)}, max ${formatMs(Math.max(...total))} (min ${formatMs(Math.min(...total))}, n=${total.length})`);
  console.log(`  write → "committed" logged: p50 ${formatMs(median(toCommit))}, p95 ${formatMs(percentile(toCommit, 95))}, max ${formatMs(Math.max(...toCommit))}`);
  console.log(`  "committed" → on the master: p50 ${formatMs(median(toMaster))}, p95 ${formatMs(percentile(toMaster, 95))}, max ${formatMs(Math.max(...toMaster))}`);
  console.log(`target p95 ≤ ${formatMs(TARGET_P95_MS)}: ${p95 <= TARGET_P95_MS ? 'met' : 'MISSED'}`);
  const slowest = total.map((ms, i) => ({ ms, edit: i + 1 })).sort((a, b) => b.ms - a.ms).slice(0, 3);
  console.log(`slowest edits: ${slowest.map((s) => `#${s.edit} ${formatMs(s.ms)}`).join(', ')}`);
  console.log(`machine: ${machineLoad()} (at end)`);
} finally {
  const code = await daemon.stop();
  if (code !== 0) console.log(`daemon exited ${code}; last lines:\n${daemon.lines.slice(-10).map((l) => l.text).join('\n')}`);
}
