// Boot's budget on an S3 master: under a boot storm a throttled or timing-out bucket is
// retried for pacha.boot.timeout (drop-retry.ts), in pacha and in the helper git runs; a
// smaller budget never shortens pacha.s3.timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3Master } from '../../../../src/master/s3/s3-master.js';

const master = (timeoutSeconds: number) =>
  new S3Master({
    location: { bucket: 'fleet', prefix: 'hosts' },
    stateDir: '/nonexistent/state',
    region: 'eu-west-1',
    endpoint: undefined,
    timeoutSeconds,
    compactAfter: 64,
    instance: 'i-1',
  });

test("boot's budget becomes the helper's retry window when it is longer than pacha.s3.timeout", async () => {
  const m = master(60);
  assert.equal(m.gitEnv().PACHA_S3_TIMEOUT, '60');
  m.retryDroppedConnections({ budgetMs: 600_000 });
  assert.equal(m.gitEnv().PACHA_S3_TIMEOUT, '600');
  await m.close();
});

test('a budget shorter than pacha.s3.timeout leaves it as it is', async () => {
  const m = master(300);
  m.retryDroppedConnections({ budgetMs: 10_500 });
  assert.equal(m.gitEnv().PACHA_S3_TIMEOUT, '300');
  await m.close();
});
