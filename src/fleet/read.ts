// `pacha fleet`'s one read of the master: the wire script (wire.ts), run where the hosts live,
// or the master's own reader where no script can run (S3: master/s3/fleet-read.ts).
import { ConfigError, MasterError } from '../errors.js';
import type { Master } from '../master/master.js';
import { hostsPathMissing } from '../master/master-errors.js';
import { shellQuote } from '../master/shell-quote.js';
import { DAY_MS, TIMELINE_DAYS } from './state.js';
import { fleetScript, NO_GIT, NO_HOSTS_PATH, parseFleetOutput, type FleetSnapshot } from './wire.js';

export async function readFleet(master: Master, nowMs: number): Promise<FleetSnapshot> {
  const since = Math.floor((nowMs - TIMELINE_DAYS * DAY_MS) / 1000);
  if (master.readFleet) return master.readFleet(since);
  if (!master.runScript) {
    throw new ConfigError(`${master.label} cannot be read as a whole`, { code: 'EGATED', hint: 'run `pacha fleet` on the master, or with a plain shell account' });
  }
  const result = await master.runScript(fleetScript(master.hostsPath, since, shellQuote), '`pacha fleet`');
  if (result.status === NO_HOSTS_PATH) throw hostsPathMissing(master.label, master.hostsPath);
  const snapshot = result.status === 0 ? parseFleetOutput(result.stdout) : undefined;
  if (!snapshot) {
    const said = result.stderr.trim().split('\n').slice(-3).join('; ');
    throw new MasterError(`${master.label}: reading the fleet failed (exit ${result.status ?? 'signal'})${said ? `: ${said}` : ''}`, {
      code: 'EFLEET',
      hint: result.status === NO_GIT ? 'install git on the master' : "the master account's shell must run sh scripts (see the README, \"Setting up the master\")",
    });
  }
  return snapshot;
}
