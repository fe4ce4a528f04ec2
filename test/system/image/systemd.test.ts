// systemd/pacha.service checked by Debian's own `systemd-analyze verify` (systemd 252):
// the unit parses with no warning at all, its start job resolves, and with cloud-init's
// real units in the same boot transaction there is no ordering cycle.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../../helpers/image-command.js';
import { assertClean, unitDir as unitDirOf, verify } from './units.js';

const UNIT = readFileSync(path.join(REPO, 'systemd', 'pacha.service'), 'utf8');
const CLOUD_INIT_TARGET = '/lib/systemd/system/cloud-init.target';

/** pacha.service enabled, with cloud-init.target pulled in as on a real boot. */
function unitDir(unitText: string): string {
  return unitDirOf({ 'pacha.service': unitText }, { 'cloud-init.target': CLOUD_INIT_TARGET });
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

    it('the ordering cycle of a unit After=cloud-final.service (cloud-final waits for multi-user.target)', () => {
      const cyclic = UNIT.replace(/^After=.*$/m, 'After=cloud-final.service');
      const r = verify(unitDir(cyclic), 'multi-user.target');
      assert.match(r.stderr, /Found ordering cycle/, r.describe);
    });
  });
});
