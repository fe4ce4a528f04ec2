// A boot storm against one sshd: MaxStartups makes sshd drop new connections before the key
// exchange ("kex_exchange_identification: Connection closed by remote host"). Here one idle
// TCP connection holds the only unauthenticated slot of an sshd with MaxStartups 1:100:1, so
// every clone is dropped, deterministically, until the slot is released: the clones retry with
// jittered backoff and get through. A refusal (a host key that does not match) still fails at
// once, however long the budget. An SSH master clones through its own ssh2 connection
// (git-upload-pack on it, master/upload-pack-fetch.ts): the drops are ssh2's, not OpenSSH's.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isTransientConnectionDrop } from '../../../src/master/transient.js';
import { createStage, stageRepository } from '../../../src/rebuild/stage.js';
import { holdSlot, masterOn, startDroppingSshd, wrongKnownHosts } from '../../helpers/dropping-sshd.js';
import type { Sshd } from '../../helpers/sshd.js';
import { makeWorld, watchConfDirs, type World } from '../../helpers/world.js';

const NAMES = ['a', 'b', 'c', 'd'];
/** ssh2's words for a connection sshd dropped before the key exchange. */
const SSH2_DROP = /Connection lost before handshake|ECONNRESET/;
let world: World;
let tiny: Sshd;

before(async () => {
  world = await makeWorld({ ssh: true });
  await watchConfDirs(world, NAMES);
  // A second sshd on the same master directory and the same client key, with one slot only.
  tiny = await startDroppingSshd(world);
});

after(async () => {
  await tiny?.stop();
  await world?.sshd?.stop();
});


test('what counts as a dropped connection, and what is a refusal', () => {
  assert.ok(isTransientConnectionDrop('kex_exchange_identification: Connection closed by remote host\nConnection closed by 127.0.0.1 port 2222\nfatal: Could not read from remote repository.'));
  assert.ok(isTransientConnectionDrop('kex_exchange_identification: read: Connection reset by peer'));
  assert.ok(!isTransientConnectionDrop('Host key verification failed.\nfatal: Could not read from remote repository.'));
  assert.ok(!isTransientConnectionDrop('bar@127.0.0.1: Permission denied (publickey).\nConnection closed by 127.0.0.1 port 22'));
  assert.ok(!isTransientConnectionDrop("fatal: '/srv/bar/foo' does not appear to be a git repository"));
});

test('clones dropped by MaxStartups retry and all get through once the slot frees', async () => {
  const { master, state } = await masterOn(world, tiny);
  const stage = await createStage(state);
  const socket = await holdSlot(tiny.port);
  const retries: string[] = [];
  const release = setTimeout(() => socket.destroy(), 1500);
  try {
    const staged = await Promise.all(
      NAMES.map((name) => stageRepository(master, 'bar', name, stage.dir, { budgetMs: 30_000, onRetry: (_n, e) => retries.push(e.message) })),
    );
    assert.deepEqual(staged.map((s) => s.name), NAMES);
    for (const s of staged) assert.match(s.head, /^[0-9a-f]{40}$/);
    // Every clone was dropped at least once while the slot was held: the retries are real.
    assert.ok(retries.length >= NAMES.length, `retries: ${retries.length}`);
    assert.ok(retries.every((m) => SSH2_DROP.test(m)), retries.join('\n'));
  } finally {
    clearTimeout(release);
    socket.destroy();
    await master.close();
  }
});

test('without a retry budget the same drop fails the clone at once, naming what ssh2 said (master unreachable)', async () => {
  const { master, state } = await masterOn(world, tiny);
  const stage = await createStage(state);
  const socket = await holdSlot(tiny.port);
  try {
    await assert.rejects(stageRepository(master, 'bar', 'a', stage.dir), (e: Error & { code?: string }) => e.code === 'EUNREACHABLE' && SSH2_DROP.test(e.message));
  } finally {
    socket.destroy();
    await master.close();
  }
});

test('a refusal (the host key does not match) fails at once, budget or not', async () => {
  const { master, state } = await masterOn(world, tiny, wrongKnownHosts(tiny, world.sshd!));
  const stage = await createStage(state);
  const retries: string[] = [];
  const started = Date.now();
  await assert.rejects(stageRepository(master, 'bar', 'a', stage.dir, { budgetMs: 30_000, onRetry: (_n, e) => retries.push(e.message) }), (e: Error & { code?: string }) => e.code === 'EHOSTKEY' && /not the key pacha trusts/.test(e.message));
  await master.close();
  assert.deepEqual(retries, []);
  assert.ok(Date.now() - started < 10_000);
});
