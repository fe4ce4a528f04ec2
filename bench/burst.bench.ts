// Burst (issue 3): 1,000 files written at once into a tracked path with `pacha daemon`
// running (default settings) against a master on a loopback sshd; the time from the first
// write until all 1,000 are in the master's working copy. Target ≤ 10 s.
// Each round writes 1,000 new files (~40 bytes each) into a new directory under the tracked
// path, as fast as this process can (a package upgrade or an `rsync` of a config tree looks
// like this), then reads the master's copy of that directory every ~20 ms until it holds
// all 1,000 names and the last one written has its content; every file's content is then
// checked outside the timed part. Median of PACHA_BENCH_ROUNDS (3) rounds, all shown.
// sshd: test/helpers/sshd.ts's, with SetEnv=SHLVL=1 (root's ~/.bashrc skipped; TESTING.md).
//   node --import tsx bench/burst.bench.ts    (after `npm run build`)
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeWorld } from '../test/helpers/world.js';
import { machineLoad, pollUntil, readOr, startDaemon } from './lib/daemon.js';
import { formatMs, formatSummary, summarize } from './lib/stats.js';

const ROUNDS = Number(process.env.PACHA_BENCH_ROUNDS ?? 3);
const FILES = 1000;
const POLL_MS = 20;
const TARGET_MS = 10_000;

const contentOf = (round: number, i: number) => `burst ${round} file ${i}\n`;

function countIn(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

const world = await makeWorld({ ssh: true });
const tracked = path.join(world.root, 'etc', 'app');
mkdirSync(tracked, { recursive: true });
writeFileSync(path.join(tracked, 'main.conf'), 'main = 0\n');
world.writeConfig([`pacha.watch = ${tracked}`]);
const masterCopy = path.join(world.masterDir, 'bar', 'app');

console.log(`machine: ${machineLoad()} (at start)`);
const daemon = startDaemon(world.config);
try {
  await daemon.waitFor(/pushed .*app/, { timeoutMs: 60_000 });
  console.log(`pacha daemon (PID ${daemon.pid}), default push.delay/max_delay; master: loopback sshd with SetEnv=SHLVL=1 (root's .bashrc skipped)`);
  console.log(`${FILES} new files written at once into a new directory of the tracked path, ${ROUNDS} rounds`);
  const times: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const rel = `burst-${round}`;
    const started = performance.now();
    mkdirSync(path.join(tracked, rel));
    for (let i = 0; i < FILES; i++) writeFileSync(path.join(tracked, rel, `f${i}.conf`), contentOf(round, i));
    const written = performance.now();
    const last = path.join(masterCopy, rel, `f${FILES - 1}.conf`);
    const arrived = await pollUntil(() => countIn(path.join(masterCopy, rel)) === FILES && readOr(last) === contentOf(round, FILES - 1), {
      everyMs: POLL_MS,
      timeoutMs: 120_000,
      what: `all ${FILES} files of ${rel} on the master`,
    });
    const wrong = Array.from({ length: FILES }, (_, i) => i).filter((i) => readOr(path.join(masterCopy, rel, `f${i}.conf`)) !== contentOf(round, i));
    if (wrong.length) throw new Error(`${wrong.length} files of ${rel} differ on the master (first: f${wrong[0]}.conf)`);
    // The master's working copy is updated before `git push` returns: count up to the push that carried the last file.
    const lastPush = await daemon.waitFor(/pushed .*app/, { since: arrived - 1, timeoutMs: 30_000 });
    const commits = daemon.lines.filter((l) => l.at >= started && l.at <= arrived && /committed .*app/.test(l.text)).length;
    const pushes = daemon.lines.filter((l) => l.at >= started && l.at <= lastPush.at && /pushed .*app/.test(l.text)).length;
    times.push(arrived - started);
    console.log(`round ${round}: all ${FILES} on the master after ${formatMs(arrived - started)} (writing took ${formatMs(written - started)}; ${commits} commit${commits === 1 ? '' : 's'}, ${pushes} push${pushes === 1 ? '' : 'es'})`);
    await new Promise((r) => setTimeout(r, 2000)); // let the last push settle before the next round
  }
  const summary = summarize(times);
  console.log(`burst of ${FILES} files → all on the master: ${formatSummary(summary)}`);
  console.log(`target ≤ ${formatMs(TARGET_MS)}: ${summary.median <= TARGET_MS ? 'met' : 'MISSED'}${summary.max > TARGET_MS ? ' (but the slowest round was over)' : ''}`);
  console.log(`machine: ${machineLoad()} (at end)`);
} finally {
  const code = await daemon.stop();
  if (code !== 0) console.log(`daemon exited ${code}; last lines:\n${daemon.lines.slice(-10).map((l) => l.text).join('\n')}`);
}
