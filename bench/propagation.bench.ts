// Propagation (issues 3 and 14): how long from writing a tracked file to its new content in
// the master's working copy, `pacha daemon` at its defaults (pacha.push.delay 200 ms,
// pacha.push.max_delay 2000 ms, adaptive: an edit after quiet is committed at once), and,
// in the same run against the same loopback sshd, the anchor: lsyncd (Debian's) with
// `delay = 0` (batching off) syncing a copy of the same directory by rsync over ssh, its
// connection shared too (ControlMaster/ControlPersist, so it is not charged a key exchange
// per edit). 30 single-file edits, one every second; after each write the destination file
// is read every ~5 ms until it holds the new content.
// Goals (issue 14): pacha p95 ≤ lsyncd p95, pacha p50 ≤ 150 ms — while pacha versions every
// change (a commit each) and lsyncd only copies.
// pacha's latency is also split at the moment its "committed" log line reached this process.
// The sshd is test/helpers/sshd.ts's, started with SetEnv=SHLVL=1, which skips root's
// ~/.bashrc (pyenv, ~74 ms per remote command on these machines; TESTING.md): figures are
// of a master whose login shell starts quickly.
//   npm run build && node --import tsx bench/propagation.bench.ts    (PACHA_BENCH_EDITS=30)
//   PACHA_BENCH_GATE=1: the master reached through the gate (the host's key enrolled with
//   `pacha add-host --key`, every request runs `pacha serve HOST` on the master)
//   needs lsyncd and rsync: apt-get install -y --no-install-recommends lsyncd rsync
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startSshd } from '../test/helpers/sshd.js';
import { makeWorld } from '../test/helpers/world.js';
import { machineLoad, pollUntil, readOr, startDaemon } from './lib/daemon.js';
import { formatMs, median, percentile } from './lib/stats.js';

const EDITS = Number(process.env.PACHA_BENCH_EDITS ?? 30);
const GATE = process.env.PACHA_BENCH_GATE === '1';
const INTERVAL_MS = 1000;
const POLL_MS = 5;
const GOAL_P50_MS = 150;

interface Figures {
  total: number[];
}

/** `edits` writes of `file`, one every INTERVAL_MS; each timed until `destination` holds it. */
async function timeEdits(file: string, destination: string, onEach?: (started: number) => Promise<void>): Promise<Figures> {
  const total: number[] = [];
  for (let i = 1; i <= EDITS; i++) {
    const content = `a = ${i} ${Date.now()}\n`;
    const started = performance.now();
    writeFileSync(file, content);
    const arrived = await pollUntil(() => readOr(destination) === content, { everyMs: POLL_MS, timeoutMs: 60_000, what: `edit ${i} at ${destination}` });
    total.push(arrived - started);
    await onEach?.(started);
    const rest = started + INTERVAL_MS - performance.now();
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  }
  return { total };
}

const line = (name: string, v: number[]) =>
  `${name}: p50 ${formatMs(median(v))}, p95 ${formatMs(percentile(v, 95))}, max ${formatMs(Math.max(...v))} (min ${formatMs(Math.min(...v))}, n=${v.length})`;

for (const tool of ['lsyncd', 'rsync']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`${tool} is not installed: apt-get install -y --no-install-recommends lsyncd rsync`);
    process.exit(1);
  }
}

const world = await makeWorld({ ssh: true, gate: GATE });
// Through the gate, the host's key runs only `pacha serve`: lsyncd gets a plain sshd of its own.
const sshd = GATE ? await startSshd() : world.sshd!;
const tracked = path.join(world.root, 'etc', 'app');
mkdirSync(path.join(tracked, 'sub'), { recursive: true });
for (const name of ['main.conf', 'sub/a.conf', 'sub/b.conf']) writeFileSync(path.join(tracked, name), `${name} = 0\n`);
world.writeConfig([`pacha.watch = ${tracked}`]);
console.log(`machine: ${machineLoad()} (at start; 2 cores shared with other work: figures are noisy)`);

// pacha
const file = path.join(tracked, 'sub', 'a.conf');
const daemon = startDaemon(world.config);
let pacha: Figures;
const toCommit: number[] = [];
try {
  await daemon.waitFor(/pushed .*app/, { timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 1000));
  pacha = await timeEdits(file, path.join(world.masterDir, 'bar', 'app', 'sub', 'a.conf'), async (started) => {
    const committed = await daemon.waitFor(/committed .*app/, { since: started, timeoutMs: 10_000 });
    toCommit.push(committed.at - started);
  });
} finally {
  const code = await daemon.stop();
  if (code !== 0) console.log(`daemon exited ${code}; last lines:\n${daemon.lines.slice(-10).map((l) => l.text).join('\n')}`);
}

// lsyncd, delay = 0, rsync over ssh through one shared connection
const source = path.join(world.root, 'lsyncd-src');
const target = path.join(world.dir, 'lsyncd-target');
mkdirSync(path.join(source, 'sub'), { recursive: true });
mkdirSync(target);
for (const name of ['main.conf', 'sub/a.conf', 'sub/b.conf']) writeFileSync(path.join(source, name), `${name} = 0\n`);
const rsh = [
  '/usr/bin/ssh', '-p', String(sshd.port), '-i', sshd.clientKey, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
  '-o', `UserKnownHostsFile=${sshd.knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null',
  '-o', 'ControlMaster=auto', '-o', `ControlPath=${world.dir}/lsyncd-cm-%C`, '-o', 'ControlPersist=yes',
].join(' ');
const config = path.join(world.dir, 'lsyncd.lua');
writeFileSync(
  config,
  `settings { nodaemon = true, logfile = "${world.dir}/lsyncd.log", insist = true }\n` +
    `sync { default.rsync, source = "${source}", target = "${sshd.user}@127.0.0.1:${target}", delay = 0,\n` +
    `  rsync = { archive = true, rsh = "${rsh}" } }\n`,
);
const lsyncd = spawn('lsyncd', [config], { stdio: 'ignore' });
process.once('exit', () => lsyncd.kill('SIGKILL'));
let anchor: Figures;
try {
  await pollUntil(() => existsSync(path.join(target, 'sub', 'a.conf')), { everyMs: 20, timeoutMs: 60_000, what: "lsyncd's first sync" });
  await new Promise((r) => setTimeout(r, 1000));
  anchor = await timeEdits(path.join(source, 'sub', 'a.conf'), path.join(target, 'sub', 'a.conf'));
} finally {
  lsyncd.kill('SIGTERM');
  spawnSync('ssh', ['-o', `ControlPath=${world.dir}/lsyncd-cm-%C`, '-p', String(sshd.port), '-O', 'exit', `${sshd.user}@127.0.0.1`], { stdio: 'ignore' });
  await sshd.stop();
  if (GATE) await world.sshd!.stop();
}

console.log(`${EDITS} edits, one every ${INTERVAL_MS} ms, destination polled every ${POLL_MS} ms; master: loopback sshd with SetEnv=SHLVL=1, ${GATE ? 'through the gate (pacha serve)' : 'a plain shell account'}`);
console.log(line('pacha daemon (defaults), write → content in the master\'s working copy', pacha.total));
console.log(`  of which write → "committed" logged: p50 ${formatMs(median(toCommit))}, p95 ${formatMs(percentile(toCommit, 95))}`);
if (GATE) {
  // The gate's log says how each push went: through the daemon's kept session, or git push.
  const served = readOr(path.join(world.dir, 'serve.log')) ?? '';
  const kept = served.match(/apply-update .* status 0/g)?.length ?? 0;
  const packs = served.match(/receive-pack exit/g)?.length ?? 0;
  console.log(`  through the gate: ${kept} updates on the kept session, ${packs} git pushes (the first push, heartbeats, fallbacks)`);
}
console.log(line('lsyncd delay = 0 (rsync over one shared ssh connection), write → content in the target', anchor.total));
const p95 = percentile(pacha.total, 95);
const anchorP95 = percentile(anchor.total, 95);
console.log(`ratio pacha / lsyncd: p50 ${(median(pacha.total) / median(anchor.total)).toFixed(2)}, p95 ${(p95 / anchorP95).toFixed(2)}`);
console.log(`goal p95 ≤ lsyncd's p95: ${p95 <= anchorP95 ? 'met' : 'MISSED'}; goal p50 ≤ ${formatMs(GOAL_P50_MS)}: ${median(pacha.total) <= GOAL_P50_MS ? 'met' : 'MISSED'}`);
console.log(`machine: ${machineLoad()} (at end)`);
