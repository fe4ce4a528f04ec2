// The gate's cost (issue 8): one `pacha push` of a one-line edit to a master reached as a
// plain shell account (SFTP and sh; git-receive-pack run by the account's shell) against the
// same master reached through an enrolled key (every request runs `pacha serve HOST`: a node
// process on the master). Both on one loopback sshd each, started with SetEnv=SHLVL=1 (no
// .bashrc; TESTING.md), taking turns round by round so load on a shared machine hits both alike.
// A push is a whole CLI run: ssh2 connection and host key check, the gate probe, ensuring the
// repository, then git push over OpenSSH.
//   node --import tsx bench/gate.bench.ts     (after `npm run build`; PACHA_BENCH_ROUNDS=15)
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeWorld, type World } from '../test/helpers/world.js';
import { machineLoad } from './lib/daemon.js';
import { formatMs, median } from './lib/stats.js';

const ROUNDS = Number(process.env.PACHA_BENCH_ROUNDS ?? 15);

async function prepare(gate: boolean): Promise<{ world: World; file: string }> {
  const world = await makeWorld({ ssh: true, gate });
  const dir = path.join(world.root, 'etc', 'app');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'app.conf');
  writeFileSync(file, 'v = 0\n');
  const r = await world.pacha(['watch', dir]);
  if (r.code !== 0) throw new Error(`watch failed: ${r.stderr}`);
  return { world, file };
}

console.log(`machine: ${machineLoad()} (at start)`);
const cases = { plain: await prepare(false), gate: await prepare(true) };
const times: Record<keyof typeof cases, number[]> = { plain: [], gate: [] };
for (let round = 1; round <= ROUNDS; round++) {
  for (const name of (round % 2 ? ['plain', 'gate'] : ['gate', 'plain']) as Array<keyof typeof cases>) {
    const { world, file } = cases[name];
    writeFileSync(file, `v = ${round}\n`);
    const started = performance.now();
    const r = await world.pacha(['push']);
    times[name].push(performance.now() - started);
    if (r.code !== 0) throw new Error(`${name} push failed: ${r.stderr}`);
  }
}
const line = (name: keyof typeof cases): string =>
  `${name.padEnd(5)} pacha push: min ${formatMs(Math.min(...times[name]))}, median ${formatMs(median(times[name]))}, max ${formatMs(Math.max(...times[name]))} (n=${times[name].length})`;
console.log(line('plain'));
console.log(line('gate'));
console.log(`gate / plain (medians): ${(median(times.gate) / median(times.plain)).toFixed(2)}×, +${formatMs(median(times.gate) - median(times.plain))} per push`);
console.log(`machine: ${machineLoad()} (at end)`);
