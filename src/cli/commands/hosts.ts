// `pacha hosts` and `pacha add-host HOST`: the master's side, over SSH, locally or on S3
// (where add-host marks the host and prints its role's IAM policy: IAM grants the access).
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
  if (options.revoke || options.key || options.keygen) {
    const master = await context.master();
    if (master.hostAccess) {
      throw new UsageError(`${master.label}: a host's access is its IAM role, not an SSH key`, {
        hint: `\`pacha add-host ${host}\` prints the policy for its role; to revoke, detach that policy from the role (or delete the role)`,
      });
    }
  }
  if (options.revoke) return removeHostCommand(context, host, options);
  if (options.key || options.keygen) return enrolCommand(context, host, options);
  const master = await context.master();
  const outcome = await master.addHost(host);
  context.out.say(outcome === 'created' ? `created ${host} on ${master.label}` : `${host} already exists on ${master.label}`);
  const access = master.hostAccess?.(host);
  if (access) {
    context.out.say(`${access.how}:`);
    for (const line of JSON.stringify(access.policy, null, 2).split('\n')) context.out.say(line);
    context.out.say(`and give the instance these settings (pacha.conf or its user data):`);
    for (const line of access.settings) context.out.say(`  ${line}`);
  }
  context.out.result({ ok: true, host, outcome, ...(access ? { policy: access.policy, settings: access.settings } : {}) });
  return 0;
}
