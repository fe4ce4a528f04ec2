// Every step of boot that talks to the master, after the wait for it, against an sshd that
// drops new connections as MaxStartups does under a boot storm (helpers/dropping-sshd.ts:
// MaxStartups 1:100:1 with its only slot held for a moment): ssh2's requests (connect, the
// gate's hello, describing the host, the hooks listing), a request whose connection dies
// under it, the fence read and the claim's heartbeat push each try again with jittered
// backoff and get through once the slot frees. A refusal (a host key that does not match)
// still fails at once, however long the budget. (The clones: ../rebuild/dropped-connections.test.ts.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readSignals, recordClaim } from '../../../src/boot/claims.js';
import { isWorthRetrying } from '../../../src/boot/wait.js';
import { MasterError, MasterUnreachableError } from '../../../src/errors.js';
import { isDroppedConnection, type RetryDropsOptions } from '../../../src/master/transient.js';
import { Store } from '../../../src/store/store.js';
import { holdSlotFor, masterOn, startDroppingSshd, wrongKnownHosts } from '../../helpers/dropping-sshd.js';
import type { Sshd } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeWorld, watchConfDirs, type World } from '../../helpers/world.js';

const NAMES = ['a', 'b'];
const DROPPED = /kex_exchange_identification|Connection (closed|reset|lost)|No response from server|Not connected|ECONNRESET/;
let world: World;
let tiny: Sshd;

before(async () => {
  world = await makeWorld({ ssh: true });
  await watchConfDirs(world, NAMES);
  const hooks = path.join(world.masterDir, 'bar', 'pacha_pre');
  mkdirSync(hooks);
  writeFileSync(path.join(hooks, '10-hello'), '#!/bin/sh\necho hello\n');
  chmodSync(path.join(hooks, '10-hello'), 0o755);
  tiny = await startDroppingSshd(world);
});

after(async () => {
  await tiny?.stop();
  await world?.sshd?.stop();
});

/** A retry budget that records each retry's error. */
function recording(budgetMs = 30_000): RetryDropsOptions & { seen: string[] } {
  const seen: string[] = [];
  return { budgetMs, seen, onRetry: (_n, error) => seen.push(error.message) };
}

test('what is a dropped connection (retried) and what a refusal (never)', () => {
  assert.ok(isDroppedConnection(new MasterUnreachableError('master bar@127.0.0.1:22 unreachable: Connection lost before handshake')));
  assert.ok(isDroppedConnection(new MasterError('bar@127.0.0.1:22: running a command failed: No response from server', { code: 'EREMOTE' })));
  // A wrapped git failure: ssh's words are in the cause.
  assert.ok(isDroppedConnection(new MasterUnreachableError('push of /etc/a failed: the master hung up', { cause: new Error('kex_exchange_identification: Connection closed by remote host') })));
  // sshd's listen queue full (hundreds connecting at once): OpenSSH's ConnectTimeout.
  assert.ok(isDroppedConnection(new Error('ssh: connect to host 127.0.0.1 port 2222: Connection timed out\nfatal: Could not read from remote repository.')));
  assert.ok(!isDroppedConnection(new MasterUnreachableError('master 127.0.0.1:22 presented the ssh-ed25519 key SHA256:x, which is not the key pacha trusts', { code: 'EHOSTKEY' })));
  assert.ok(!isDroppedConnection(new MasterUnreachableError('refused: Connection reset by peer', { code: 'EAUTH' })));
  assert.ok(!isDroppedConnection(new Error('Host key verification failed.\nConnection closed by 127.0.0.1 port 22')));
  assert.ok(!isDroppedConnection(new MasterError('bar: listing /srv failed: Permission denied', { code: 'EREMOTE' })));
  // The wait for the master retries a request dropped under it, never a refusal.
  assert.ok(isWorthRetrying(new MasterError('bar@127.0.0.1:22: running a command failed: No response from server', { code: 'EREMOTE' })));
  assert.ok(!isWorthRetrying(new MasterUnreachableError('wrong key', { code: 'EHOSTKEY' })));
});

test('connect, hello and describing the host: dropped until the slot frees, then through', async () => {
  const { master } = await masterOn(world, tiny);
  const retry = recording();
  master.retryDroppedConnections!(retry);
  const slot = await holdSlotFor(tiny.port, 1500);
  try {
    const listing = await master.describeHost('bar');
    assert.deepEqual(listing?.repositories, NAMES);
    assert.equal(listing?.hasPreHooks, true);
    assert.ok(retry.seen.length >= 1, 'the slot was held: the first connection was dropped');
    assert.ok(retry.seen.every((m) => DROPPED.test(m)), retry.seen.join('\n'));
  } finally {
    slot.release();
    await master.close();
  }
});

test('without a budget the same drop fails at once (the drop is real)', async () => {
  const { master } = await masterOn(world, tiny);
  const slot = await holdSlotFor(tiny.port, 10_000);
  try {
    await assert.rejects(master.describeHost('bar'), (e: Error) => isDroppedConnection(e) && DROPPED.test(e.message));
  } finally {
    slot.release();
    await master.close();
  }
});

test('the hooks listing, on a connection that dies under the request: dialled anew, then through', async () => {
  const { master } = await masterOn(world, tiny);
  const retry = recording();
  master.retryDroppedConnections!(retry);
  try {
    assert.deepEqual(await master.listHosts(), ['bar']); // the connection is up
    const slot = await holdSlotFor(tiny.port, 1000);
    const fetched = master.fetchHooks('bar', 'pre', tempDir());
    assert.ok(tiny.dropSessions() >= 1, 'the session was killed');
    const hooks = await fetched.finally(() => slot.release());
    assert.deepEqual(hooks.map((h) => h.name), ['10-hello']);
    assert.equal(readFileSync(hooks[0]!.localPath!, 'utf8'), '#!/bin/sh\necho hello\n');
    assert.ok(retry.seen.length >= 1, 'the request was made again');
    assert.ok(retry.seen.every((m) => DROPPED.test(m)), retry.seen.join('\n'));
  } finally {
    await master.close();
  }
});

test('the fence read (git-upload-pack through the ssh2 connection) retries, then reads every signal', async () => {
  const { master } = await masterOn(world, tiny);
  const retry = recording();
  const slot = await holdSlotFor(tiny.port, 1500);
  try {
    const signals = await readSignals(master, 'bar', NAMES, retry);
    assert.deepEqual(signals.filter((s) => s.kind === 'push').map((s) => s.repository), NAMES);
    assert.ok(retry.seen.length >= 1);
    assert.ok(retry.seen.every((m) => DROPPED.test(m)), retry.seen.join('\n'));
  } finally {
    slot.release();
    await master.close();
  }
});

test("the claim's heartbeat push retries, then names this instance on the master", async () => {
  const { master } = await masterOn(world, tiny);
  const store = await Store.open(world.stateDir, 'bar');
  const retry = recording();
  const slot = await holdSlotFor(tiny.port, 1500);
  const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 7000);
  try {
    const lines = await recordClaim(store, master, { verdict: 'clear', reason: 'test', ignored: [] }, now, undefined, retry);
    assert.equal(lines.length, NAMES.length, lines.join('\n'));
    assert.ok(lines.every((l) => / held by /.test(l)), lines.join('\n'));
    for (const name of NAMES) {
      const beat = execFileSync('git', ['-C', path.join(world.masterDir, 'bar', name), 'log', '-1', '--format=%ct', 'refs/pacha/heartbeat'], { encoding: 'utf8' }).trim();
      assert.equal(Number(beat), now.getTime() / 1000, `${name}: the heartbeat on the master is this one`);
    }
    assert.ok(retry.seen.length >= 1);
  } finally {
    slot.release();
    await master.close();
  }
});

test('a refusal (the host key does not match) fails at once at every step, budget or not', async () => {
  const { master } = await masterOn(world, tiny, wrongKnownHosts(tiny, world.sshd!));
  const retry = recording();
  master.retryDroppedConnections!(retry);
  const started = Date.now();
  try {
    await assert.rejects(master.describeHost('bar'), (e: Error & { code?: string }) => e.code === 'EHOSTKEY');
    await assert.rejects(readSignals(master, 'bar', NAMES, retry), (e: Error & { code?: string }) => e.code === 'EHOSTKEY' && /not the key pacha trusts/.test(e.message));
    assert.deepEqual(retry.seen, []);
    assert.ok(Date.now() - started < 10_000);
  } finally {
    await master.close();
  }
});
