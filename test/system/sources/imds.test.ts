import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { imdsDisabledReason, imdsEndpoint, readImds } from '../../../src/sources/imds.js';
import { startImds, startSilentEndpoint } from '../../helpers/imds.js';
import { freePort } from '../../helpers/sshd.js';

describe('IMDSv2', () => {
  test('the stand-in service refuses a GET without a token (401)', async () => {
    const imds = await startImds({ instanceId: 'i-1' });
    after(() => imds.stop());
    const response = await fetch(`${imds.endpoint}/latest/meta-data/instance-id`);
    assert.equal(response.status, 401);
  });

  test('token, then instance id, host name, region and both tags', async () => {
    const imds = await startImds({
      instanceId: 'i-0abc',
      localHostname: 'ip-10-1-2-3.eu-west-1.compute.internal',
      region: 'eu-west-1',
      tags: { 'pacha-host': 'bar', 'pacha-ssm-path': '/pacha/prod', Name: 'ignored' },
    });
    after(() => imds.stop());
    const result = await readImds({ endpoint: imds.endpoint });
    assert.deepEqual(result, {
      status: 'found',
      endpoint: imds.endpoint,
      problems: [],
      instanceId: 'i-0abc',
      localHostname: 'ip-10-1-2-3.eu-west-1.compute.internal',
      region: 'eu-west-1',
      hostTag: 'bar',
      ssmPathTag: '/pacha/prod',
    });
    assert.equal(imds.requests[0], 'PUT /latest/api/token 200');
    assert.ok(!imds.requests.some((r) => r.endsWith(' 401')), `every GET carried the token: ${imds.requests.join(', ')}`);
  });

  test('no tags (404) means no tag, not an error', async () => {
    const imds = await startImds({ instanceId: 'i-1', localHostname: 'h', region: 'us-east-1' });
    after(() => imds.stop());
    const result = await readImds({ endpoint: imds.endpoint });
    assert.equal(result.status, 'found');
    if (result.status !== 'found') return;
    assert.equal(result.hostTag, undefined);
    assert.equal(result.ssmPathTag, undefined);
    assert.deepEqual(result.problems, []);
    assert.ok(imds.requests.includes('GET /latest/meta-data/tags/instance/pacha-host 404'));
  });

  test('an endpoint that never answers: absent, within the budget', async () => {
    const silent = await startSilentEndpoint();
    after(() => silent.stop());
    const started = Date.now();
    const result = await readImds({ endpoint: silent.endpoint });
    const elapsed = Date.now() - started;
    assert.equal(result.status, 'absent');
    assert.match(result.status === 'absent' ? result.reason : '', /no token: no answer in time/);
    // A correctness bound (issue 4: boot loses at most 2 s off EC2), generous for a busy machine.
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
  });

  test('nothing listening: absent', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const result = await readImds({ endpoint });
    assert.deepEqual(result, { status: 'absent', endpoint, reason: 'no token: ECONNREFUSED' });
  });

  test('switched off by pacha.imds=false or AWS_EC2_METADATA_DISABLED; endpoint from PACHA_IMDS_ENDPOINT', () => {
    assert.equal(imdsDisabledReason(false, {}), 'pacha.imds is false');
    assert.equal(imdsDisabledReason(true, { AWS_EC2_METADATA_DISABLED: 'TRUE' }), 'AWS_EC2_METADATA_DISABLED=true');
    assert.equal(imdsDisabledReason(true, { AWS_EC2_METADATA_DISABLED: 'false' }), undefined);
    assert.equal(imdsDisabledReason(undefined, {}), undefined);
    assert.equal(imdsEndpoint({}), 'http://169.254.169.254');
    assert.equal(imdsEndpoint({ PACHA_IMDS_ENDPOINT: 'http://127.0.0.1:9/' }), 'http://127.0.0.1:9');
  });
});
