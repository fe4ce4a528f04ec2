// `pacha hosts` and `pacha add-host HOST`: the master's side, over SSH or locally.
import { UsageError } from '../../errors.js';
import { checkHostName } from '../../config/values.js';
import type { Context } from '../../context.js';
import { sayWhichMaster } from './which-master.js';
import { enrolCommand, removeHostCommand, type EnrolOptions } from './enrol.js';

export async function hostsCommand(context: Context): Promise<number> {
  const master = await context.master();
  sayWhichMaster(context, master, 'hosts read');
  const hosts = [];
  for (const host of await master.listHosts()) {
    const listing = await master.describeHost(host);
    if (listing) hosts.push(listing);
  }
  if (hosts.length === 0) context.out.say(`${master.label}: no hosts yet`);
  for (const h of hosts) {
    const hooks = [h.hasPreHooks ? 'pacha_pre' : '', h.hasPostHooks ? 'pacha_post' : ''].filter(Boolean).join(', ');
    context.out.say(`${h.host}: ${h.repositories.join(', ') || '(nothing tracked)'}${hooks ? `  [hooks: ${hooks}]` : ''}`);
  }
  context.out.result({ master: master.label, hosts });
  return 0;
}

export async function addHostCommand(context: Context, host: string, options: EnrolOptions & { revoke?: boolean } = {}): Promise<number> {
  const problem = checkHostName(host);
  if (problem) throw new UsageError(`host name '${host}' ${problem}`);
  if (options.revoke) return removeHostCommand(context, host, options);
  if (options.key || options.keygen) return enrolCommand(context, host, options);
  const master = await context.master();
  const outcome = await master.addHost(host);
  context.out.say(outcome === 'created' ? `created ${host} on ${master.label}` : `${host} already exists on ${master.label}`);
  context.out.result({ ok: true, host, outcome });
  return 0;
}
