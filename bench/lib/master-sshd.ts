// The master for benchmarks: test/helpers/sshd.ts's sshd, checked to serve SFTP (pacha's SSH
// master lists hosts and fetches hooks over SFTP), so a benchmark fails up front with a clear
// message instead of timing a rebuild that stops at "opening SFTP failed".
import { spawnSync } from 'node:child_process';
import { startSshd, type Sshd } from '../../test/helpers/sshd.js';

function sftpWorks(sshd: Sshd): boolean {
  const probe = spawnSync(
    'sftp',
    ['-b', '-', '-P', String(sshd.port), '-i', sshd.clientKey, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${sshd.knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', `${sshd.user}@127.0.0.1`],
    { input: 'pwd\n', encoding: 'utf8', timeout: 15_000 },
  );
  return probe.status === 0;
}

export async function startMasterSshd(): Promise<Sshd> {
  const sshd = await startSshd();
  if (!sftpWorks(sshd)) {
    await sshd.stop();
    throw new Error("the sshd of test/helpers/sshd.ts serves no SFTP: it needs -o 'Subsystem=sftp internal-sftp'");
  }
  return sshd;
}
