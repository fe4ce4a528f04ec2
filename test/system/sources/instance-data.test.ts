import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../../../src/errors.js';
import { loadInstanceData } from '../../../src/sources/instance-data.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('pacha-instance-data-');
const userData = path.join(dir, 'user-data.txt');
const vendorData = path.join(dir, 'vendor-data.txt');
writeFileSync(userData, '#cloud-config\n{}\n');
writeFileSync(vendorData, '');

/** What the real cloud-init reports for the same file (undefined when it has no such key). */
function cloudInitQuery(file: string, key: string): string | undefined {
  try {
    return execFileSync('cloud-init', ['query', '-i', file, '-u', userData, '-v', vendorData, key], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).replace(/\n$/, '');
  } catch (error) {
    assert.match(String((error as { stderr?: string }).stderr), /has no|Undefined/, 'cloud-init query failed for another reason');
    return undefined;
  }
}

let counter = 0;
function file(json: unknown): string {
  const p = path.join(dir, `instance-data-${++counter}.json`);
  writeFileSync(p, JSON.stringify(json));
  return p;
}

// As cloud-init 22.4 writes it on EC2 (abridged), plus older and odd shapes.
const SAMPLES = {
  ec2: {
    _beta_keys: ['subplatform'],
    base64_encoded_keys: [],
    sensitive_keys: ['merged_cfg'],
    v1: {
      _beta_keys: ['subplatform'],
      availability_zone: 'eu-west-1a',
      cloud_name: 'aws',
      instance_id: 'i-0123456789abcdef0',
      local_hostname: 'ip-10-0-0-12.eu-west-1.compute.internal',
      platform: 'ec2',
      region: 'eu-west-1',
    },
    ds: { 'meta-data': { 'instance-id': 'i-0123456789abcdef0' } },
  },
  hyphenated: { v1: { 'local-hostname': 'dash-host', 'instance-id': 'i-dash' } },
  noRegion: { v1: { local_hostname: 'nocloud-host', instance_id: 'iid-local01' } },
};

describe('instance data', () => {
  for (const [name, sample] of Object.entries(SAMPLES)) {
    test(`${name}: the values equal what \`cloud-init query\` reports`, async () => {
      const p = file(sample);
      const data = await loadInstanceData(p);
      assert.equal(data.status, 'found');
      if (data.status !== 'found') return;
      assert.equal(data.localHostname, cloudInitQuery(p, 'v1.local_hostname'));
      assert.equal(data.instanceId, cloudInitQuery(p, 'v1.instance_id'));
      assert.equal(data.region, cloudInitQuery(p, 'v1.region'));
      assert.notEqual(data.localHostname, undefined);
    });
  }

  test('the EC2 sample, literally', async () => {
    const data = await loadInstanceData(file(SAMPLES.ec2));
    assert.deepEqual(data, {
      status: 'found',
      path: path.join(dir, `instance-data-${counter}.json`),
      localHostname: 'ip-10-0-0-12.eu-west-1.compute.internal',
      instanceId: 'i-0123456789abcdef0',
      region: 'eu-west-1',
    });
  });

  test('missing file: absent', async () => {
    assert.deepEqual(await loadInstanceData(path.join(dir, 'none.json')), { status: 'absent', path: path.join(dir, 'none.json') });
  });

  test('not JSON: exit 2 naming the file', async () => {
    const p = path.join(dir, 'bad.json');
    writeFileSync(p, '{"v1": ');
    await assert.rejects(loadInstanceData(p), (e: unknown) => e instanceof ConfigError && e.exitCode === 2 && e.message.includes(p));
  });
});
