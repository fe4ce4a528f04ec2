// `pacha serve HOST`: the forced command of a key enrolled for HOST (see `pacha add-host --key`).
// sshd runs it with no useful environment: its settings come from the config file named in
// the forced command (-c), never from a boot's saved settings.
import { loadSettings } from '../../config/load.js';
import { checkHostName } from '../../config/values.js';
import { REFUSED_PREFIX, REFUSED_STATUS } from '../../master/gate/protocol.js';
import { serve } from '../../master/gate/serve.js';
import type { GlobalOptions } from '../../context.js';

/**
 * The argv of the gate's own entry point (serve-main.ts): exactly the words enrolment writes,
 * `[-c CONF] serve HOST`; undefined for anything else. Pure.
 */
export function parseServeArgs(args: readonly string[]): { config?: string; host: string } | undefined {
  if (args.length === 2 && args[0] === 'serve') return { host: args[1]! };
  if (args.length === 4 && (args[0] === '-c' || args[0] === '--config') && args[2] === 'serve') return { config: args[1]!, host: args[3]! };
  return undefined;
}

export async function serveCommand(globals: GlobalOptions, host: string): Promise<number> {
  const problem = checkHostName(host);
  if (problem) {
    process.stderr.write(`${REFUSED_PREFIX}the forced command names host '${host}', which ${problem}\n`);
    return REFUSED_STATUS;
  }
  const settings = await loadSettings({ ...(globals.config ? { configPath: globals.config } : {}), includeBootSettings: false });
  return serve({
    host,
    hostsPath: settings.require('pacha.hosts.path'),
    command: process.env.SSH_ORIGINAL_COMMAND,
    logFile: settings.get('pacha.serve.log'),
    peer: process.env.SSH_CONNECTION,
  });
}
