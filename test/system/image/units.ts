// systemd-analyze verify on pacha's units, as the image installs them.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { runCommand, type CommandResult } from '../../helpers/image-command.js';

/**
 * A unit directory searched before the system's: each unit with its ExecStart pointed at a
 * stub executable (verify checks that the binary exists; /usr/local/bin/pacha does not on a
 * test machine), enabled in multi-user.target the way install.sh enables it; `alsoWanted`
 * pulls more units in (cloud-init.target, as cloud-init's generator does on a real boot).
 */
export function unitDir(units: Record<string, string>, alsoWanted: Record<string, string> = {}): string {
  const dir = tempDir('pacha-unit-');
  const stub = path.join(dir, 'pacha');
  writeFileSync(stub, '#!/bin/sh\nexit 0\n');
  chmodSync(stub, 0o755);
  const unitsDir = path.join(dir, 'units');
  const wants = path.join(unitsDir, 'multi-user.target.wants');
  mkdirSync(wants, { recursive: true });
  for (const [name, text] of Object.entries(units)) {
    writeFileSync(path.join(unitsDir, name), text.replace(/^ExecStart=\/usr\/local\/bin\/pacha /m, `ExecStart=${stub} `));
    symlinkSync(`../${name}`, path.join(wants, name));
  }
  for (const [name, target] of Object.entries(alsoWanted)) symlinkSync(target, path.join(wants, name));
  return unitsDir;
}

/** `systemd-analyze verify` with our unit directory first, then the system's (trailing ':'). */
export function verify(unitsDir: string, what: string): CommandResult {
  return runCommand('systemd-analyze', ['verify', what], { env: { ...process.env, SYSTEMD_UNIT_PATH: `${unitsDir}:` } });
}

/** verify exits 0 on mere parse warnings ("…, ignoring"): a clean unit has no output at all. */
export function assertClean(r: CommandResult): void {
  assert.equal(r.status, 0, r.describe);
  assert.equal(r.stderr.trim(), '', r.describe);
}
