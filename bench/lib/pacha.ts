// Running the built pacha CLI from a benchmark, against a master on a loopback sshd.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sshd } from '../../test/helpers/sshd.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI; PACHA_BENCH_CLI points a benchmark at another build (a prototype on a copy). */
export const CLI = process.env.PACHA_BENCH_CLI ? path.resolve(process.env.PACHA_BENCH_CLI) : path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

export interface SshConfig {
  sshd: Sshd;
  hostsPath: string;
  stateDir: string;
  hostname: string;
}

/** A config file for an SSH master on the loopback sshd (the form issue 2 describes). */
export function writeSshConfig(file: string, c: SshConfig): string {
  const lines = [
    '[DEFAULT]',
    'pacha.host = 127.0.0.1',
    `pacha.ssh.port = ${c.sshd.port}`,
    `pacha.ssh.user = ${c.sshd.user}`,
    `pacha.ssh.key = ${c.sshd.clientKey}`,
    `pacha.ssh.known_hosts = ${c.sshd.knownHosts}`,
    `pacha.hosts.path = ${c.hostsPath}`,
    `pacha.hostname = ${c.hostname}`,
    `pacha.state.path = ${c.stateDir}`,
    '',
  ];
  writeFileSync(file, lines.join('\n'));
  return file;
}

/**
 * `--import` module (a data: URL, so nothing is written) that records the node process's
 * own peak RSS (ru_maxrss of RUSAGE_SELF, KiB) into the file named by PACHA_BENCH_RSS_FILE
 * at exit: GNU time would report the largest of node and its git children instead.
 */
export const SELF_RSS_PRELOAD =
  'data:text/javascript,' +
  encodeURIComponent(
    'import { writeFileSync } from "node:fs";' +
      'const file = process.env.PACHA_BENCH_RSS_FILE;' +
      'if (file) process.on("exit", () => writeFileSync(file, String(process.resourceUsage().maxRSS)));',
  );

/** Flush dirty pages (the previous round's writes and deletes) so they are not timed in the next. */
export function settle(): void {
  spawnSync('sync');
  spawnSync('sleep', ['1']);
}

/** An environment without PACHA_* variables from the caller (the config file decides). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PACHA_')) env[k] = v;
  return { ...env, ...extra };
}
