// The master for benchmarks: test/helpers/sshd.ts's sshd, with an SFTP subsystem.
// pacha's SSH master lists hosts and fetches hooks over SFTP (ssh2), but the helper starts
// sshd with `-f /dev/null` and no `Subsystem sftp`, so `pacha rebuild` over it stops at
// "opening SFTP failed". Until the helper adds `-o 'Subsystem=sftp internal-sftp'`, this
// restarts its sshd on the same port with the same keys and options plus that one line.
// When the helper has it, the probe passes and the helper's sshd is used as it is.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startSshd, type Sshd } from '../../test/helpers/sshd.js';

function hasSftp(sshd: Sshd): boolean {
  const probe = spawnSync(
    'sftp',
    ['-b', '-', '-P', String(sshd.port), '-i', sshd.clientKey, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${sshd.knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', `${sshd.user}@127.0.0.1`],
    { input: 'pwd\n', encoding: 'utf8', timeout: 15_000 },
  );
  return probe.status === 0;
}

/** The helper's sshd argv plus the SFTP subsystem (SetEnv=SHLVL=1 kept: root's ~/.bashrc skipped). */
function sshdArgs(sshd: Sshd): string[] {
  const option = (o: string): string[] => ['-o', o];
  return [
    '-D', '-e', '-f', '/dev/null',
    ...option(`Port=${sshd.port}`), ...option('ListenAddress=127.0.0.1'),
    ...option(`HostKey=${path.join(sshd.dir, 'host_ed25519')}`),
    ...option(`AuthorizedKeysFile=${path.join(sshd.dir, 'authorized_keys')}`),
    ...option('PasswordAuthentication=no'), ...option('KbdInteractiveAuthentication=no'),
    ...option('UsePAM=no'), ...option('PermitRootLogin=prohibit-password'), ...option('StrictModes=no'),
    ...option('PidFile=none'), ...option('MaxStartups=100'), ...option('MaxSessions=50'),
    ...option('SetEnv=SHLVL=1'),
    ...option('Subsystem=sftp internal-sftp'),
  ];
}

export interface MasterSshd extends Sshd {
  /** How the master was started, for the benchmark's output. */
  note: string;
}

export async function startMasterSshd(): Promise<MasterSshd> {
  const sshd = await startSshd();
  if (hasSftp(sshd)) return { ...sshd, note: 'test/helpers/sshd.ts as it is' };
  await sshd.stop();
  let child: ChildProcess | undefined;
  let stderr = '';
  child = spawn('/usr/sbin/sshd', sshdArgs(sshd), { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; !hasSftp(sshd); i++) {
    if (child.exitCode !== null || i > 50) throw new Error(`sshd with an SFTP subsystem did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  return { ...sshd, stop, note: "test/helpers/sshd.ts's options plus Subsystem=sftp internal-sftp (the helper has no SFTP)" };
}
