// A master whose sshd drops connections as MaxStartups does under a boot storm, made
// deterministic: a second sshd on a world's master directory (same client key) with
// MaxStartups 1:100:1, whose only unauthenticated slot a test holds with an idle TCP
// connection. Every new connection is then dropped before the key exchange until the slot
// is released.
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadSettings } from '../../src/config/load.js';
import type { Master } from '../../src/master/master.js';
import { openMaster } from '../../src/master/open.js';
import { startSshd, type Sshd } from './sshd.js';
import { tempDir } from './tmp.js';
import type { World } from './world.js';

/** An sshd with one slot, serving `world`'s master directory to `world`'s client key. */
export async function startDroppingSshd(world: World): Promise<Sshd> {
  const sshd = await startSshd({ maxStartups: '1:100:1' });
  writeFileSync(path.join(sshd.dir, 'authorized_keys'), readFileSync(`${world.sshd!.clientKey}.pub`));
  return sshd;
}

/** Holds sshd's one unauthenticated slot: a TCP connection that never sends its banner. */
export async function holdSlot(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('data', () => resolve()).once('error', reject));
  return socket;
}

/** Holds the slot for `ms`, then frees it. `release()` frees it at once (for finally). */
export async function holdSlotFor(port: number, ms: number): Promise<{ release(): void }> {
  const socket = await holdSlot(port);
  const timer = setTimeout(() => socket.destroy(), ms);
  return {
    release: () => {
      clearTimeout(timer);
      socket.destroy();
    },
  };
}

/** A master for host `bar` through `sshd` (its own state dir), as boot opens it. */
export async function masterOn(world: World, sshd: Sshd, knownHosts = sshd.knownHosts): Promise<{ master: Master; state: string }> {
  const dir = tempDir();
  const state = path.join(dir, 'state');
  const config = path.join(dir, 'pacha.conf');
  writeFileSync(config, [
    '[DEFAULT]',
    'pacha.hostname = bar',
    'pacha.host = 127.0.0.1',
    `pacha.ssh.port = ${sshd.port}`,
    `pacha.ssh.user = ${sshd.user}`,
    `pacha.ssh.key = ${world.sshd!.clientKey}`,
    `pacha.ssh.known_hosts = ${knownHosts}`,
    `pacha.hosts.path = ${world.masterDir}`,
    `pacha.state.path = ${state}`,
    '',
  ].join('\n'));
  const settings = await loadSettings({ configPath: config, env: {} });
  return { master: await openMaster(settings, state), state };
}

/** A known_hosts file pinning `sshd`'s port to another sshd's key: a refusal, not a drop. */
export function wrongKnownHosts(sshd: Sshd, other: Sshd): string {
  const file = path.join(tempDir(), 'known_hosts');
  writeFileSync(file, `[127.0.0.1]:${sshd.port} ${other.hostKey}\n`);
  return file;
}
