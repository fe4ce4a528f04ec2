import assert from 'node:assert/strict';
import { SSMServiceException } from '@aws-sdk/client-ssm';
import { after, beforeEach, describe, test } from 'node:test';
import { backoffDelay } from '../../../src/backoff.js';
import { resolveSettings } from '../../../src/config/settings.js';
import { ConfigError, SourceUnreachableError } from '../../../src/errors.js';
import {
  checkSsmPath,
  chooseSsmRegion,
  getParametersByPath,
  openSsm,
  ssmError,
  type RetryOptions,
  type SendFn,
  type SsmSource,
} from '../../../src/sources/ssm.js';
import { startMoto, type Moto } from '../../helpers/moto.js';
import { freePort } from '../../helpers/sshd.js';

const REGION = { region: 'us-east-1', from: 'test' };
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0IGtleSBtYXRlcmlhbA==\n-----END OPENSSH PRIVATE KEY-----';

const moto: Moto = await startMoto();
const ssm: SsmSource = await openSsm({ region: REGION, endpoint: moto.endpoint });
after(() => ssm.close());
beforeEach(() => moto.reset());

function isConfigError(code: string, ...mustMention: string[]) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.exitCode, 2);
    for (const text of mustMention) assert.ok(error.message.includes(text), `'${error.message}' mentions ${text}`);
    return true;
  };
}

/** What passes by itself (throttling, no route): exit 3, retried by boot, never a configuration error. */
function isTransientError(code: string, ...mustMention: string[]) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof SourceUnreachableError, `expected a SourceUnreachableError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.exitCode, 3);
    for (const text of mustMention) assert.ok(error.message.includes(text), `'${error.message}' mentions ${text}`);
    return true;
  };
}

describe('SSM parameters from a real moto_server', () => {
  test('fleet parameters: only those directly under the path, named by their last segment', async () => {
    await moto.put('/pacha/prod/pacha.host', 'master.example.com');
    await moto.put('/pacha/prod/pacha.ssh.user', 'fleet_user');
    await moto.put('/pacha/prod/hosts/bar/pacha.ssh.user', 'bar_user');
    await moto.put('/pacha/production/pacha.ssh.port', '2222'); // a sibling path, not under /pacha/prod
    const fleet = await ssm.fleet('/pacha/prod');
    assert.equal(fleet.source, 'SSM parameters under /pacha/prod');
    assert.deepEqual(fleet.entries, [
      { key: 'pacha.host', raw: 'master.example.com', origin: 'ssm:/pacha/prod/pacha.host' },
      { key: 'pacha.ssh.user', raw: 'fleet_user', origin: 'ssm:/pacha/prod/pacha.ssh.user' },
    ]);
  });

  test('host parameters override the fleet', async () => {
    await moto.put('/pacha/prod/pacha.host', 'master.example.com');
    await moto.put('/pacha/prod/pacha.ssh.user', 'fleet_user');
    await moto.put('/pacha/prod/hosts/bar/pacha.ssh.user', 'bar_user');
    await moto.put('/pacha/prod/hosts/baz/pacha.ssh.user', 'baz_user');
    const settings = resolveSettings([await ssm.fleet('/pacha/prod'), await ssm.host('/pacha/prod', 'bar')]);
    assert.equal(settings.get('pacha.ssh.user'), 'bar_user');
    assert.equal(settings.origin('pacha.ssh.user'), 'ssm:/pacha/prod/hosts/bar/pacha.ssh.user');
    assert.equal(settings.get('pacha.host'), 'master.example.com');
    assert.equal(settings.origin('pacha.host'), 'ssm:/pacha/prod/pacha.host');
  });

  test('more than 10 parameters: every page is read', async () => {
    const names = Array.from({ length: 23 }, (_, i) => `/pacha/big/custom.${String(i).padStart(2, '0')}`);
    for (const name of names) await moto.put(name, `v${name.slice(-2)}`);
    await moto.put('/pacha/big/pacha.ssh.user', 'paged_user');
    const pages: Array<string | undefined> = [];
    const counting: SendFn = (input) => {
      pages.push(input.NextToken);
      assert.equal(input.MaxResults, 10);
      return ssm.send(input);
    };
    const parameters = await getParametersByPath(counting, '/pacha/big');
    assert.equal(parameters.length, 24);
    assert.deepEqual(new Set(parameters.map((p) => p.Name)), new Set([...names, '/pacha/big/pacha.ssh.user']));
    assert.equal(pages.length, 3, 'three pages of at most 10');
    assert.equal(pages[0], undefined);
    // Unknown keys become notices, the known one a value.
    const settings = resolveSettings([await ssm.fleet('/pacha/big')]);
    assert.equal(settings.get('pacha.ssh.user'), 'paged_user');
    assert.equal(settings.notices.filter((n) => n.message.includes('unknown key custom.')).length, 23);
  });

  test('a SecureString private key is decrypted', async () => {
    await moto.put('/pacha/prod/pacha.ssh.private_key', KEY, 'SecureString');
    await moto.put('/pacha/prod/pacha.ssh.host_key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake');
    const settings = resolveSettings([await ssm.fleet('/pacha/prod')]);
    assert.equal(settings.get('pacha.ssh.private_key'), KEY);
    // Without decryption SSM (and moto) hands back something else: the decryption is ours to ask for.
    const raw = await ssm.send({ Path: '/pacha/prod', WithDecryption: false });
    assert.notEqual(raw.Parameters?.find((p) => p.Name?.endsWith('private_key'))?.Value, KEY);
    assert.equal(settings.origin('pacha.ssh.private_key'), 'ssm:/pacha/prod/pacha.ssh.private_key');
    assert.equal(settings.entries().find((e) => e.key === 'pacha.ssh.private_key')?.value, '<redacted>');
  });

  test('AWS_ENDPOINT_URL_SSM is honoured (the SDK reads it)', async () => {
    await moto.put('/pacha/env/pacha.ssh.user', 'env_endpoint_user');
    process.env.AWS_ENDPOINT_URL_SSM = moto.endpoint;
    try {
      const viaEnv = await openSsm({ region: { region: 'us-east-1', from: 'test' } });
      after(() => viaEnv.close());
      const layer = await viaEnv.fleet('/pacha/env');
      assert.deepEqual(layer.entries.map((e) => e.raw), ['env_endpoint_user']);
    } finally {
      delete process.env.AWS_ENDPOINT_URL_SSM;
    }
  });

  test('ThrottlingException is retried with backoff, then the real call answers', async () => {
    await moto.put('/pacha/prod/pacha.ssh.user', 'after_throttling');
    let throttles = 3;
    let calls = 0;
    const throttled: SendFn = (input) => {
      calls++;
      if (throttles-- > 0) {
        return Promise.reject(new SSMServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: {}, message: 'Rate exceeded' }));
      }
      return ssm.send(input);
    };
    const slept: number[] = [];
    const retry: RetryOptions = {
      maxAttempts: 6,
      backoff: { baseMs: 100, maxMs: 1000 },
      sleep: async (ms) => void slept.push(ms),
      random: () => 0.5,
    };
    const parameters = await getParametersByPath(throttled, '/pacha/prod', retry);
    assert.deepEqual(parameters.map((p) => p.Value), ['after_throttling']);
    assert.equal(calls, 4);
    assert.deepEqual(slept, [1, 2, 3].map((attempt) => backoffDelay(attempt, retry.backoff, 0.5)));

    // Throttled past the last attempt: a clear error naming the path.
    throttles = 100;
    await assert.rejects(
      getParametersByPath(throttled, '/pacha/prod', retry).catch((error) => {
        throw ssmError(error, '/pacha/prod', 'us-east-1');
      }),
      isTransientError('ESSMTHROTTLED', '/pacha/prod'),
    );
    assert.equal(slept.length, 3 + 5);
  });

  test('an unreachable endpoint names the path', async () => {
    const nowhere = await openSsm({ region: REGION, endpoint: `http://127.0.0.1:${await freePort()}` });
    after(() => nowhere.close());
    await assert.rejects(nowhere.fleet('/pacha/prod'), isTransientError('ESSMUNREACHABLE', '/pacha/prod', 'ECONNREFUSED'));
  });

  test('an unknown region', async () => {
    await assert.rejects(
      openSsm({ region: { region: 'moon-base', from: 'pacha.ssm.region' } }),
      isConfigError('ESSMREGION', "'moon-base'", 'pacha.ssm.region'),
    );
  });
});

describe('SSM: pure parts', () => {
  test('paths: empty and invalid ones are exit 2 naming their source', () => {
    assert.equal(checkSsmPath('/pacha/prod/', 'user data'), '/pacha/prod');
    assert.throws(() => checkSsmPath('', 'user data /ud'), isConfigError('ESSMPATH', 'user data /ud', 'empty'));
    assert.throws(() => checkSsmPath('/', 'pacha.ssm.path'), isConfigError('ESSMPATH', 'empty'));
    assert.throws(() => checkSsmPath('pacha/prod', 'the tag'), isConfigError('ESSMPATH', "'pacha/prod'", 'the tag'));
    assert.throws(() => checkSsmPath('/pacha//prod', 'x'), isConfigError('ESSMPATH'));
    assert.throws(() => checkSsmPath('/pacha prod', 'x'), isConfigError('ESSMPATH'));
  });

  test('region: the setting, then AWS_REGION, AWS_DEFAULT_REGION, then the instance', () => {
    const instance = { region: 'eu-west-3', from: 'the instance metadata' };
    const env = { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-west-2' };
    assert.deepEqual(chooseSsmRegion('eu-north-1', env, instance), { region: 'eu-north-1', from: 'pacha.ssm.region' });
    assert.deepEqual(chooseSsmRegion(undefined, env, instance), { region: 'eu-west-1', from: 'AWS_REGION' });
    assert.deepEqual(chooseSsmRegion(undefined, { AWS_DEFAULT_REGION: 'eu-west-2' }, instance), { region: 'eu-west-2', from: 'AWS_DEFAULT_REGION' });
    assert.deepEqual(chooseSsmRegion(undefined, {}, instance), instance);
    assert.equal(chooseSsmRegion(undefined, {}, undefined), undefined);
  });

  test('SDK errors as the SDK throws them become named, secret-free ConfigErrors', () => {
    const sdk = (name: string) => new SSMServiceException({ name, $fault: 'client', $metadata: {}, message: `${name} happened` });
    assert.ok(isConfigError('ESSMDENIED', 'access denied', '/pacha/prod')(ssmError(sdk('AccessDeniedException'), '/pacha/prod', 'eu-west-1')));
    assert.ok(isConfigError('ESSMNOTFOUND', '/pacha/prod')(ssmError(sdk('ParameterNotFound'), '/pacha/prod', 'eu-west-1')));
    assert.ok(isConfigError('ESSMCREDENTIALS', '/pacha/prod')(ssmError(sdk('UnrecognizedClientException'), '/pacha/prod', 'eu-west-1')));
  });
});
