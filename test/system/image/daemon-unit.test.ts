// systemd/pacha-daemon.service (hosts not built from an image: `pacha daemon` alone) checked
// by Debian's own `systemd-analyze verify` (systemd 252), as systemd.test.ts checks
// pacha.service: the unit first in SYSTEMD_UNIT_PATH, its ExecStart pointed at a stub
// executable (verify checks that the binary exists), and a clean unit prints nothing.
// And the settings it says it shares with pacha.service ("[shared]") really are the same.
// The unit directory and verify come from units.ts, shared with systemd.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../../helpers/image-command.js';
import { assertClean, unitDir, verify } from './units.js';

const DAEMON_UNIT = readFileSync(path.join(REPO, 'systemd', 'pacha-daemon.service'), 'utf8');
const BOOT_UNIT = readFileSync(path.join(REPO, 'systemd', 'pacha.service'), 'utf8');

/** Key=value lines of a unit, in order (comments and section headers left out). */
function directives(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .map((l) => /^([A-Za-z]+)=(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]);
}

/**
 * The keys set under a comment paragraph that starts with "[shared]": a comment line after
 * a non-comment line starts a paragraph, and a paragraph's marker covers the directives up
 * to the next comment paragraph or blank line.
 */
function sharedKeys(text: string): Set<string> {
  const keys = new Set<string>();
  let shared = false;
  let previousWasComment = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      if (!previousWasComment) shared = line.includes('[shared]');
      previousWasComment = true;
      continue;
    }
    previousWasComment = false;
    if (line.trim() === '') shared = false;
    const m = /^([A-Za-z]+)=/.exec(line);
    if (m && shared) keys.add(m[1]!);
  }
  return keys;
}

/** Shared keys whose values differ between the two units: "Key: a ≠ b". */
function sharedDifferences(daemonText: string, bootText: string): string[] {
  const values = (text: string, key: string) => directives(text).filter(([k]) => k === key).map(([, v]) => v).join(' | ');
  return [...sharedKeys(daemonText)].filter((k) => values(daemonText, k) !== values(bootText, k)).map((k) => `${k}: ${values(daemonText, k)} ≠ ${values(bootText, k)}`);
}

describe('systemd/pacha-daemon.service', () => {
  it('runs `pacha daemon` from the launcher install.sh writes, as the brief for it says', () => {
    assert.match(DAEMON_UNIT, /^Type=exec$/m);
    assert.match(DAEMON_UNIT, /^ExecStart=\/usr\/local\/bin\/pacha daemon$/m);
    assert.match(DAEMON_UNIT, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    assert.match(DAEMON_UNIT, /^Restart=on-failure$/m);
    assert.match(DAEMON_UNIT, /^RestartPreventExitStatus=2$/m);
    assert.match(DAEMON_UNIT, /^StateDirectory=pacha$/m);
    assert.match(DAEMON_UNIT, /^Conflicts=pacha\.service$/m);
    assert.doesNotMatch(DAEMON_UNIT, /^After=.*cloud-init/m, 'nothing here reads user data');
  });

  it('passes systemd-analyze verify with no warning', () => {
    const units = unitDir({ 'pacha-daemon.service': DAEMON_UNIT });
    assertClean(verify(units, path.join(units, 'pacha-daemon.service')));
  });

  it('leaves the boot transaction clean, also with pacha.service enabled beside it', () => {
    assertClean(verify(unitDir({ 'pacha-daemon.service': DAEMON_UNIT }), 'multi-user.target'));
    assertClean(verify(unitDir({ 'pacha-daemon.service': DAEMON_UNIT, 'pacha.service': BOOT_UNIT }), 'multi-user.target'));
  });

  it('has a start limit that systemd\'s own restarts never reach, in both units: an outage of any length is waited out', () => {
    for (const [name, text] of [['pacha-daemon.service', DAEMON_UNIT], ['pacha.service', BOOT_UNIT]] as const) {
      const value = (key: string) => Number(directives(text).find(([k]) => k === key)?.[1]);
      const restartSec = value('RestartSec');
      const interval = value('StartLimitIntervalSec');
      const burst = value('StartLimitBurst');
      assert.ok(restartSec > 0 && interval > 0 && burst > 0, `${name}: RestartSec ${restartSec}, StartLimitIntervalSec ${interval}, StartLimitBurst ${burst}`);
      // Starts spaced RestartSec apart: at most interval/RestartSec + 1 of them fall in one interval.
      const mostStarts = Math.floor(interval / restartSec) + 1;
      assert.ok(mostStarts < burst, `${name}: ${mostStarts} restarts fit in ${interval} s, the limit is ${burst}: a long outage would leave the unit failed`);
      // Exit 3 (unreachable: master, SSM, metadata service) restarts; only exit 2 does not.
      assert.deepEqual(directives(text).filter(([k]) => k === 'RestartPreventExitStatus').map(([, v]) => v), ['2'], name);
      assert.match(text, /^Restart=on-failure$/m, name);
    }
  });

  it('starts node with its young generation capped (NODE_OPTIONS, in both units), which node accepts and keeps to', () => {
    const options = directives(DAEMON_UNIT).filter(([k, v]) => k === 'Environment' && v.startsWith('NODE_OPTIONS=')).map(([, v]) => v.slice('NODE_OPTIONS='.length));
    assert.deepEqual(options, ['--max-semi-space-size=1']);
    assert.ok(sharedKeys(DAEMON_UNIT).has('Environment'), 'marked [shared]: pacha.service ends in the same daemon');
    // Node refuses to start on an option NODE_OPTIONS may not carry; with it, a burst of
    // short-lived objects leaves the new space at its 1 MiB cap (2 MiB with both semi-spaces),
    // where node's default lets it grow to 32 MiB.
    const burst =
      'let keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 20000) keep = []; }' +
      'console.log(require("v8").getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size)';
    const newSpace = (env: NodeJS.ProcessEnv): number => {
      const run = spawnSync(process.execPath, ['-e', burst], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      return Number(run.stdout);
    };
    assert.ok(newSpace({ NODE_OPTIONS: options[0] }) <= 2 * 1024 * 1024);
    assert.ok(newSpace({}) > 4 * 1024 * 1024, 'without the option the burst grows the new space (else this test proves nothing)');
  });

  it('has the same values as pacha.service for every setting it marks [shared]', () => {
    const keys = sharedKeys(DAEMON_UNIT);
    for (const key of ['Type', 'ExecReload', 'Restart', 'RestartPreventExitStatus', 'KillMode', 'StateDirectory', 'UMask', 'NoNewPrivileges', 'SyslogIdentifier']) {
      assert.ok(keys.has(key), `${key} is marked [shared] (found: ${[...keys].join(', ')})`);
    }
    assert.ok(!keys.has('ExecStart') && !keys.has('After') && !keys.has('Conflicts') && !keys.has('WantedBy'), [...keys].join(', '));
    assert.deepEqual(sharedDifferences(DAEMON_UNIT, BOOT_UNIT), []);
  });

  describe('the checks catch a broken unit', () => {
    const broken: Array<[string, string, string]> = [
      ['an invalid value (only a warning to systemd)', '^Type=exec$', 'Type=bogus'],
      ['a typo in a key', '^RestartSec=', 'RestartSecs='],
      ['no ExecStart', '^ExecStart=.*$', ''],
      ['Conflicts= on a unit name that is not valid', '^Conflicts=pacha\\.service$', 'Conflicts=pacha service'],
    ];
    for (const [what, pattern, replacement] of broken) {
      it(what, () => {
        const text = DAEMON_UNIT.replace(new RegExp(pattern, 'm'), replacement);
        assert.notEqual(text, DAEMON_UNIT);
        const units = unitDir({ 'pacha-daemon.service': text });
        assert.throws(() => assertClean(verify(units, path.join(units, 'pacha-daemon.service'))));
      });
    }

    it('a [shared] setting that drifted from pacha.service', () => {
      const drifted = BOOT_UNIT.replace(/^RestartSec=30$/m, 'RestartSec=5');
      assert.notEqual(drifted, BOOT_UNIT);
      assert.deepEqual(sharedDifferences(DAEMON_UNIT, drifted), ['RestartSec: 30 ≠ 5']);
    });
  });
});
