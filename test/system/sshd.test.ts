import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import { startSshd, cleanup } from '../helpers/sshd.js';

test('the test sshd accepts the client key and pins its host key', async () => {
  const sshd = await startSshd();
  after(async () => { await sshd.stop(); cleanup(sshd.dir); });
  const out = execFileSync('ssh', [
    '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${sshd.knownHosts}`,
    '-i', sshd.clientKey, '-p', String(sshd.port), `${sshd.user}@127.0.0.1`, 'echo hello',
  ]).toString();
  assert.equal(out.trim(), 'hello');
});
