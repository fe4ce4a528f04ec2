// systemd/pacha.service checked by Debian's own `systemd-analyze verify` (systemd 252):
// the unit parses with no warning at all, its start job resolves, and with cloud-init's
// real units in the same boot transaction there is no ordering cycle.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { REPO, runCommand, type CommandResult } from './command.js';

const UNIT = readFileSync(path.join(REPO, 'systemd', 'pacha.service'), 'utf8');
const CLOUD_INIT_TARGET = '/lib/systemd/system/cloud-init.target';

/**
 * A unit directory searched before the system's: pacha.service with its ExecStart pointed
 * at a stub executable (verify checks that the binary exists; /usr/local/bin/pacha does
 * not on a test machine), enabled the way install.sh enables it, and cloud-init.target
 * pulled into multi-user.target the way cloud-init's generator does on a real boot.
 */
function unitDir(unitText: string): string {
  const dir = tempDir('pacha-unit-');
  const stub = path.join(dir, 'pacha');
  writeFileSync(stub, '#!/bin/sh\nexit 0\n');
  chmodSync(stub, 0o755);
  const units = path.join(dir, 'units');
  mkdirSync(path.join(units, 'multi-user.target.wants'), { recursive: true });
  const rewritten = unitText.replace(/^ExecStart=\/usr\/local\/bin\/pacha /m, `ExecStart=${stub} `);
  writeFileSync(path.join(units, 'pacha.service'), rewritten);
  symlinkSync('../pacha.service', path.join(units, 'multi-user.target.wants', 'pacha.service'));
  symlinkSync(CLOUD_INIT_TARGET, path.join(units, 'multi-user.target.wants', 'cloud-init.target'));
  return units;
}

/** `systemd-analyze verify` with our unit directory first, then the system's (trailing ':'). */
function verify(units: string, what: string): CommandResult {
  return runCommand('systemd-analyze', ['verify', what], { env: { ...process.env, SYSTEMD_UNIT_PATH: `${units}:` } });
}

/** verify exits 0 on mere parse warnings ("…, ignoring"): a clean unit has no output at all. */
function assertClean(r: CommandResult): void {
  assert.equal(r.status, 0, r.describe);
  assert.equal(r.stderr.trim(), '', r.describe);
}

describe('systemd/pacha.service', () => {
  it('runs `pacha boot` from the launcher install.sh writes', () => {
    assert.match(UNIT, /^ExecStart=\/usr\/local\/bin\/pacha boot$/m);
    assert.match(UNIT, /^Type=exec$/m);
    assert.match(UNIT, /^RestartPreventExitStatus=2$/m);
    assert.match(UNIT, /^After=.*\bcloud-init\.target\b/m);
  });

  it('passes systemd-analyze verify with no warning', () => {
    const units = unitDir(UNIT);
    assertClean(verify(units, path.join(units, 'pacha.service')));
  });

  it('makes no ordering cycle with cloud-init in the boot transaction', () => {
    assert.ok(readFileSync(CLOUD_INIT_TARGET, 'utf8').includes('After=multi-user.target'), 'cloud-init.target as expected');
    const r = verify(unitDir(UNIT), 'multi-user.target');
    assertClean(r);
    assert.doesNotMatch(r.stderr, /ordering cycle/);
  });

  describe('the checks catch a broken unit', () => {
    const broken: Array<[string, string, string]> = [
      ['an invalid value (only a warning to systemd)', '^Type=exec$', 'Type=bogus'],
      ['a typo in a key', '^RestartSec=', 'RestartSecs='],
      ['no ExecStart', '^ExecStart=.*$', ''],
    ];
    for (const [what, pattern, replacement] of broken) {
      it(what, () => {
        const text = UNIT.replace(new RegExp(pattern, 'm'), replacement);
        assert.notEqual(text, UNIT);
        const units = unitDir(text);
        assert.throws(() => assertClean(verify(units, path.join(units, 'pacha.service'))));
      });
    }

    it('the ordering cycle peers.md warns about', () => {
      const cyclic = UNIT.replace(/^After=.*$/m, 'After=cloud-final.service');
      const r = verify(unitDir(cyclic), 'multi-user.target');
      assert.match(r.stderr, /Found ordering cycle/, r.describe);
    });
  });
});
