// Run one of the real tools the image tests drive (systemd-analyze, cloud-init, packer,
// shellcheck, node) and keep everything a failed assertion needs to explain itself.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (test/image/ is two levels below it). */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** `cmd args… → exit N` with both streams, for assertion messages. */
  describe: string;
}

export function runCommand(cmd: string, args: string[], options: SpawnSyncOptions = {}): CommandResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...options });
  if (r.error) throw r.error;
  const stdout = String(r.stdout);
  const stderr = String(r.stderr);
  const describe = `${cmd} ${args.join(' ')} → exit ${r.status ?? r.signal}\n--- stdout\n${stdout}--- stderr\n${stderr}`;
  return { status: r.status, stdout, stderr, describe };
}
