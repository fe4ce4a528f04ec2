// The one place that decides which master a command talks to: `pacha.host = local` (or unset)
// is the local directory pacha.hosts.path; s3://BUCKET/PREFIX is a bucket; anything else is an SSH master.
import type { Settings } from '../config/settings.js';
import { isS3Master } from '../config/s3-url.js';
import { LocalMaster } from './local-master.js';
import type { Master } from './master.js';

export function isLocalMaster(host: string | undefined): boolean {
  return host === undefined || host === '' || host === 'local';
}

export async function openMaster(settings: Settings, stateDir: string): Promise<Master> {
  const host = settings.get('pacha.host');
  const hostsPath = settings.require('pacha.hosts.path');
  if (isLocalMaster(host)) return new LocalMaster(hostsPath);
  if (isS3Master(host)) return (await import('./s3/open-s3.js')).openS3Master(settings, stateDir);
  const { SshMaster } = await import('./ssh-master.js');
  return SshMaster.open({
    host: host!.replace(/^\[(.*)\]$/, '$1'),
    port: settings.require('pacha.ssh.port'),
    user: settings.require('pacha.ssh.user'),
    hostsPath,
    stateDir,
    keyFile: settings.get('pacha.ssh.key'),
    hostKey: settings.get('pacha.ssh.host_key'),
    knownHosts: settings.get('pacha.ssh.known_hosts'),
  });
}
