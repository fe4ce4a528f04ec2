// The one place that decides which masters a command talks to. pacha.host is a list
// (config/master-list.ts); each entry is opened by one factory from its spec: `local` (or
// unset) is the directory pacha.hosts.path, a host name or ssh:// URL an SSH master,
// s3://BUCKET/PREFIX a bucket. The
// first is the primary: single-master commands (fleet, hosts) and the local bookkeeping
// (refs/pacha/pushed, divergence) use it; every commit goes to all of them (fan-out.ts).
import { masterId, parseMasterList, pinnedKeyFor, type MasterSpec } from '../config/master-list.js';
import type { Settings } from '../config/settings.js';
import { LocalMaster } from './local-master.js';
import type { Master } from './master.js';

export function isLocalMaster(host: string | undefined): boolean {
  return parseMasterList(host).every((s) => s.kind === 'local');
}

/** Open one master from its spec. `sshIndex`: its place among the SSH entries (its pinned key). */
export async function openMasterSpec(spec: MasterSpec, settings: Settings, stateDir: string, sshIndex: number): Promise<Master> {
  const hostsPath = settings.require('pacha.hosts.path');
  switch (spec.kind) {
    case 'local':
      return new LocalMaster(hostsPath);
    case 'ssh': {
      const { SshMaster } = await import('./ssh-master.js');
      return SshMaster.open({
        host: spec.host,
        port: spec.port ?? settings.require('pacha.ssh.port'),
        user: spec.user ?? settings.require('pacha.ssh.user'),
        hostsPath: spec.hostsPath ?? hostsPath,
        stateDir,
        keyFile: settings.get('pacha.ssh.key'),
        hostKey: pinnedKeyFor(settings.get('pacha.ssh.host_key'), sshIndex),
        knownHosts: settings.get('pacha.ssh.known_hosts'),
      });
    }
    case 's3':
      return (await import('./s3/open-s3.js')).openS3Master(spec.entry, settings, stateDir);
  }
}

/** The primary master: the first of pacha.host. */
export async function openMaster(settings: Settings, stateDir: string): Promise<Master> {
  const specs = parseMasterList(settings.get('pacha.host'));
  return openMasterSpec(specs[0]!, settings, stateDir, 0);
}

/** The masters after the first, each with the id its acknowledged ref is named by ([] with one master). */
export async function openOtherMasters(settings: Settings, stateDir: string): Promise<Array<{ id: string; master: Master }>> {
  const specs = parseMasterList(settings.get('pacha.host'));
  const others: Array<{ id: string; master: Master }> = [];
  let sshIndex = specs[0]!.kind === 'ssh' ? 1 : 0;
  try {
    for (const spec of specs.slice(1)) {
      others.push({ id: masterId(spec.entry), master: await openMasterSpec(spec, settings, stateDir, sshIndex) });
      if (spec.kind === 'ssh') sshIndex++;
    }
  } catch (error) {
    await Promise.all(others.map((o) => o.master.close().catch(() => undefined)));
    throw error;
  }
  return others;
}
