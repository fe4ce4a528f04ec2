// The fence's decision, without a master: who holds a name, aging out, clock skew, forged dates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideFence, formatAge, takeOverMessage, type FenceInput, type Signal } from '../../../src/boot/fence.js';

const NOW = new Date('2026-11-30T12:00:00Z');
const FENCE = 7500 * 1000;
const ago = (seconds: number): Date => new Date(NOW.getTime() - seconds * 1000);
const signal = (instance: string | undefined, secondsAgo: number, kind: Signal['kind'] = 'heartbeat', repository = 'app'): Signal => ({ repository, kind, instance, time: ago(secondsAgo) });
const input = (signals: Signal[] | undefined, more: Partial<FenceInput> = {}): FenceInput => ({
  host: 'web1',
  me: { instance: 'i-new' },
  signals,
  now: NOW,
  fenceMs: FENCE,
  takeOver: false,
  newHost: 'allow',
  ...more,
});

test('a name the master does not know: a new host, unless pacha.boot.new_host = refuse', () => {
  assert.equal(decideFence(input(undefined)).verdict, 'clear');
  const refused = decideFence(input(undefined, { newHost: 'refuse' }));
  assert.equal(refused.verdict, 'unknown-host');
  assert.match(refused.reason, /no host 'web1'.*new_host = refuse/);
  // A known host is never 'unknown', whatever new_host says.
  assert.equal(decideFence(input([], { newHost: 'refuse' })).verdict, 'clear');
});

test('another instance seen within the fence: refused, naming it and its last signal; --take-over takes it', () => {
  const signals = [signal('i-old', 600, 'push', 'app'), signal('i-old', 120, 'heartbeat', 'etc'), signal('i-older', 60_000, 'heartbeat')];
  const refused = decideFence(input(signals));
  assert.equal(refused.verdict, 'refused');
  assert.equal(refused.holder?.instance, 'i-old');
  assert.equal(refused.holder?.kind, 'heartbeat', 'the newest signal is the one named');
  assert.match(refused.reason, /held by instance i-old, heartbeat 2026-11-30T11:58:00.000Z \(2 min ago, etc\), within pacha.boot.fence \(2 h 5 min\)/);
  const taken = decideFence(input(signals, { takeOver: true }));
  assert.equal(taken.verdict, 'take-over');
  assert.equal(taken.holder?.instance, 'i-old');
  assert.match(takeOverMessage('web1', { instance: 'i-new' }, taken.holder!), /^pacha: instance i-new took over web1 from instance i-old \(its last heartbeat 2026-11-30T11:58:00.000Z\)$/);
});

test('the same instance (a reboot, a re-run) is clear; so is a name whose records name no instance', () => {
  assert.equal(decideFence(input([signal('i-new', 10)])).verdict, 'clear');
  assert.equal(decideFence(input([signal(undefined, 10, 'push')])).verdict, 'clear');
  // An instance that knows no id of its own cannot be the holder another one named.
  assert.equal(decideFence(input([signal('i-old', 10)], { me: {} })).verdict, 'refused');
});

test('a dead holder ages out: silent for longer than the fence', () => {
  const d = decideFence(input([signal('i-old', 7501, 'push')]));
  assert.equal(d.verdict, 'clear');
  assert.match(d.reason, /held by instance i-old, silent for 2 h 5 min .*aged out/);
  assert.equal(decideFence(input([signal('i-old', 7499)])).verdict, 'refused');
});

test('clock skew: a little ahead counts as now; further ahead than the fence is not believed (a forged date cannot fence forever)', () => {
  assert.equal(decideFence(input([signal('i-old', -300)])).verdict, 'refused');
  const forged = decideFence(input([signal('i-evil', -10 * 365 * 86400)]));
  assert.equal(forged.verdict, 'clear');
  assert.equal(forged.ignored.length, 1);
  assert.match(forged.reason, /1 record\(s\) dated more than 2 h 5 min ahead were not believed/);
  // The forged record does not hide a real holder behind it.
  assert.equal(decideFence(input([signal('i-evil', -10 * 365 * 86400), signal('i-old', 30)])).holder?.instance, 'i-old');
});

test('formatAge', () => {
  assert.equal(formatAge(12_000), '12 s');
  assert.equal(formatAge(3 * 60_000), '3 min');
  assert.equal(formatAge(2 * 3600_000), '2 h');
  assert.equal(formatAge(5 * 86400_000), '5 d');
});
