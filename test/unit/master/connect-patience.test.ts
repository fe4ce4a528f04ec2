import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_CONNECT_TIMEOUT_SECONDS, isConnectTimeout, nextConnectTimeout } from '../../../src/master/connect-patience.js';
import { MasterUnreachableError } from '../../../src/errors.js';
import { CONNECT_TIMEOUT_SECONDS } from '../../../src/master/ssh-options.js';

test('each handshake that timed out gives the next one twice as long, up to the cap; a success resets it', () => {
  const seen: number[] = [];
  let t = CONNECT_TIMEOUT_SECONDS;
  for (let i = 0; i < 6; i++) seen.push((t = nextConnectTimeout(t, true)));
  assert.deepEqual(seen, [20, 40, 60, 60, 60, 60]);
  assert.equal(Math.max(...seen), MAX_CONNECT_TIMEOUT_SECONDS);
  assert.equal(nextConnectTimeout(60, false), CONNECT_TIMEOUT_SECONDS);
});

test('a timeout is ssh2\'s ready timeout or ETIMEDOUT, in the error or its causes; nothing else is', () => {
  const ready = Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' });
  assert.ok(isConnectTimeout(new MasterUnreachableError('master x unreachable: did not answer within 10 s', { cause: ready })));
  assert.ok(isConnectTimeout(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })));
  assert.ok(!isConnectTimeout(new MasterUnreachableError('refused', { cause: Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' }) })));
  assert.ok(!isConnectTimeout(new MasterUnreachableError('wrong key', { code: 'EHOSTKEY' })));
  assert.ok(!isConnectTimeout(undefined));
});
