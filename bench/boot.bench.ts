// `pacha boot --no-watch` for the crash-story host against `pacha rebuild bar --yes` alone,
// same master, same run (issue 4: the boot's own overhead, sources + identity + decision,
// target ≤ 300 ms with IMDS absent).
// - The host: bar tracks /opt/foo (a temporary path here), 200 config-like files, with one
//   pre and one post hook on the master. Pushed once with `pacha watch`.
// - Each round starts from a dead bar: the tracked path and the state dir removed, no SSH
//   connection open. Rounds alternate which command goes first.
// - IMDS absent: PACHA_IMDS_ENDPOINT points at a closed loopback port (connection refused at
//   once, as off EC2 with a firewall that rejects); no user data, no instance data, no SSM.
//   The settings come from the config file, as on an image with /etc/pacha.conf.
// Overhead = median(boot) − median(rebuild); boot.json's own steps (everything but the
// rebuild) are reported too.
//   node --import tsx bench/boot.bench.ts      (after `npm run build`)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BootReport } from '../src/boot/report.js';
import { sshArgs } from '../src/master/ssh-options.js';
import { freePort } from '../test/helpers/sshd.js';
import type { Sshd } from '../test/helpers/sshd.js';
import { writeHook } from '../test/helpers/tree.js';
import { compareManifests, manifestOf } from './lib/manifest.js';
import { startMasterSshd } from './lib/master-sshd.js';
import { CLI, cleanEnv, writeSshConfig } from './lib/pacha.js';
import { runOk } from './lib/run-timed.js';
import { formatMs, median } from './lib/stats.js';
import { makeTree } from './lib/tree.js';

const ROUNDS = Number(process.env.PACHA_BENCH_ROUNDS ?? 5);
const FILES = Number(process.env.PACHA_BENCH_FILES ?? 200);
const TARGET_MS = 300;
const HOST = 'bar';

const work = mkdtempSync(path.join(os.tmpdir(), 'pacha-bench-boot-'));
const hostsPath = path.join(work, 'master');
const stateDir = path.join(work, 'state');
const foo = path.join(work, 'host', 'opt', 'foo');

async function closeControlMaster(sshd: Sshd): Promise<void> {
  if (!existsSync(path.join(stateDir, 'ssh'))) return;
  const [ssh, ...args] = sshArgs({ stateDir, knownHostsFile: sshd.knownHosts, ignoreGlobalKnownHosts: true, keyFile: sshd.clientKey });
  await runOk(ssh!, [...args, '-p', String(sshd.port), '-O', 'exit', `${sshd.user}@127.0.0.1`], { env: cleanEnv() }).catch(() => undefined);
}

async function dead(sshd: Sshd): Promise<void> {
  await closeControlMaster(sshd);
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(foo, { recursive: true, force: true });
}

const sshd = await startMasterSshd();
try {
  makeTree(foo, { files: FILES, large: 0, largeMin: 0, largeMax: 0, smallMin: 200, smallMax: 3200, seed: 4 });
  const expected = manifestOf(foo);
  mkdirSync(hostsPath);
  const config = writeSshConfig(path.join(work, 'pacha.conf'), { sshd, hostsPath, stateDir, hostname: HOST });
  await runOk(process.execPath, [CLI, '-c', config, 'watch', foo], { env: cleanEnv() });
  writeHook(hostsPath, HOST, 'pre', '10-check', 'true');
  writeHook(hostsPath, HOST, 'post', '10-restart', 'true');
  const closedPort = await freePort();
  const imdsEnv = { PACHA_IMDS_ENDPOINT: `http://127.0.0.1:${closedPort}` };
  const absent = path.join(work, 'absent');
  console.log(`host: ${HOST} tracks ${FILES} files in one path, 1 pre and 1 post hook; master: OpenSSH sshd on 127.0.0.1:${sshd.port}, SetEnv=SHLVL=1`);
  console.log(`IMDS absent: PACHA_IMDS_ENDPOINT=http://127.0.0.1:${closedPort} (a closed port); no user data, no instance data, no SSM`);
  console.log(`machine: ${os.cpus().length} CPUs, node ${process.version}`);

  const boot: number[] = [];
  const rebuild: number[] = [];
  const ownSteps: number[] = [];
  let last: BootReport | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['boot', 'rebuild'] : ['rebuild', 'boot'];
    for (const which of order) {
      await dead(sshd);
      if (which === 'boot') {
        const run = await runOk(process.execPath, [CLI, '-c', config, 'boot', '--no-watch', '--user-data', absent, '--instance-data', absent], { env: cleanEnv(imdsEnv) });
        boot.push(run.ms);
        const report = JSON.parse(readFileSync(path.join(stateDir, 'boot.json'), 'utf8')) as BootReport;
        last = report;
        if (report.decision?.action !== 'rebuild') throw new Error(`boot decided ${report.decision?.action}, not rebuild`);
        ownSteps.push(report.steps.filter((s) => s.step !== 'rebuild').reduce((sum, s) => sum + s.durationMs, 0));
      } else {
        rebuild.push((await runOk(process.execPath, [CLI, '-c', config, 'rebuild', HOST, '--yes'], { env: cleanEnv(imdsEnv) })).ms);
      }
      const problems = compareManifests(expected, manifestOf(foo));
      if (problems.length) throw new Error(`${which} did not restore ${foo}:\n  ${problems.join('\n  ')}`);
    }
    console.log(`round ${round + 1}: boot ${formatMs(boot.at(-1)!)} (its own steps ${formatMs(ownSteps.at(-1)!)}), rebuild alone ${formatMs(rebuild.at(-1)!)}`);
  }
  console.log(`last boot's steps: ${last!.steps.map((s) => `${s.step} ${formatMs(s.durationMs)}`).join(', ')}`);
  const overhead = median(boot) - median(rebuild);
  console.log('');
  console.log(`pacha boot --no-watch:        median ${formatMs(median(boot))} of ${ROUNDS}`);
  console.log(`pacha rebuild ${HOST} --yes:       median ${formatMs(median(rebuild))} of ${ROUNDS}`);
  console.log(`boot overhead (difference):   ${formatMs(overhead)} (target ≤ ${TARGET_MS} ms: ${overhead <= TARGET_MS ? 'met' : 'OVER'})`);
  console.log(`boot's own steps (boot.json): median ${formatMs(median(ownSteps))} (sources, identity, master wait, decision; the master wait includes the SSH connection the rebuild then reuses)`);
} finally {
  await closeControlMaster(sshd);
  await sshd.stop();
  rmSync(work, { recursive: true, force: true });
  rmSync(sshd.dir, { recursive: true, force: true });
}
