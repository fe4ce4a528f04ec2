// A master that answers, slowly: every connection's handshake takes 12 s (helpers/slow-relay.ts
// in front of the real sshd), longer than one attempt's first 10 s. Boot's wait gives the next
// attempt longer (master/connect-patience.ts) and gets through on its second attempt, where a
// fixed 10 s would abandon every handshake until pacha.boot.timeout ran out (a boot storm's
// collapse). The error of the attempt that timed out says how long it waited.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { waitForMaster } from '../../../src/boot/wait.js';
import { isPachaError } from '../../../src/errors.js';
import { masterOn } from '../../helpers/dropping-sshd.js';
import { startSlowRelay, type SlowRelay } from '../../helpers/slow-relay.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeWorld, watchConfDirs, type World } from '../../helpers/world.js';

let world: World;
let relay: SlowRelay;

before(async () => {
  world = await makeWorld({ ssh: true });
  await watchConfDirs(world, ['a']);
  relay = await startSlowRelay(world.sshd!.port, 12_000);
});

after(async () => {
  await relay?.stop();
  await world?.sshd?.stop();
});

test('a master slower than 10 s to answer is given longer, and boot\'s wait gets through', async () => {
  const sshd = world.sshd!;
  const knownHosts = path.join(tempDir(), 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${relay.port} ${sshd.hostKey}\n`);
  const { master } = await masterOn(world, { ...sshd, port: relay.port }, knownHosts);
  const failures: string[] = [];
  try {
    const waited = await waitForMaster({
      probe: () => master.describeHost('bar'),
      timeoutMs: 90_000,
      label: master.label,
      backoff: { baseMs: 100, maxMs: 100, factor: 1, jitter: 0 },
      onRetry: (_attempt, error) => failures.push(isPachaError(error) ? error.message : String(error)),
    });
    assert.deepEqual(waited.value?.repositories, ['a']);
    assert.equal(waited.attempts, 2, failures.join('\n'));
    assert.match(failures[0] ?? '', /did not answer within 10 s/);
    assert.equal(relay.connections, 2);
  } finally {
    await master.close();
  }
});
