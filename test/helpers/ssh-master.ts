// An SshMaster on a test sshd: the sshd's user, port and client key, its host key pinned,
// a fresh state dir; any option overridden by the test.
import path from 'node:path';
import { SshMaster, type SshMasterOptions } from '../../src/master/ssh-master.js';
import type { Sshd } from './sshd.js';
import { tempDir } from './tmp.js';

export function openTestSshMaster(sshd: Sshd, hostsPath: string, overrides: Partial<SshMasterOptions> = {}): Promise<SshMaster> {
  return SshMaster.open({
    host: '127.0.0.1',
    port: sshd.port,
    user: sshd.user,
    hostsPath,
    stateDir: path.join(tempDir('pacha-state-'), 'state'),
    keyFile: sshd.clientKey,
    hostKey: sshd.hostKey,
    agentSocket: undefined,
    ...overrides,
  });
}
