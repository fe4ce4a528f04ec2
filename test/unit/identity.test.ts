import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { chooseIdentity, rankedCandidates, type IdentityCandidates } from '../../src/identity.js';

const ALL: IdentityCandidates = {
  flag: 'from-flag',
  userData: { hostname: 'from-user-data', path: '/ud.txt' },
  setting: { hostname: 'from-setting', origin: 'ssm:/pacha/prod/pacha.hostname' },
  instanceTag: 'from-tag',
  instanceData: { localHostname: 'ip-10-0-0-1.ec2.internal', path: '/run/id.json' },
  system: 'from-system',
};

describe('chooseIdentity', () => {
  test('the rank order: flag, user data, pacha.hostname, tag, instance data, system', () => {
    assert.deepEqual(
      rankedCandidates(ALL).map((c) => c.kind),
      ['flag', 'user-data', 'setting', 'instance-tag', 'instance-data', 'system'],
    );
    // Remove the winner one at a time: the next one wins, with its source.
    const expected: Array<[keyof IdentityCandidates, string, string]> = [
      ['flag', 'from-flag', '--hostname'],
      ['userData', 'from-user-data', 'user data /ud.txt'],
      ['setting', 'from-setting', 'pacha.hostname (ssm:/pacha/prod/pacha.hostname)'],
      ['instanceTag', 'from-tag', 'the EC2 instance tag pacha-host'],
      ['instanceData', 'ip-10-0-0-1.ec2.internal', 'v1.local_hostname of instance data /run/id.json'],
    ];
    const candidates: IdentityCandidates = { ...ALL };
    for (const [field, name, source] of expected) {
      const chosen = chooseIdentity(candidates);
      assert.equal(chosen.name, name);
      assert.equal(chosen.source, source);
      delete candidates[field];
    }
    assert.deepEqual(chooseIdentity(candidates), { name: 'from-system', kind: 'system', source: 'the system host name' });
  });

  test('empty or blank candidates are not found; names are trimmed', () => {
    assert.equal(chooseIdentity({ flag: '', instanceTag: '  ', system: ' sys ' }).name, 'sys');
  });

  test('a bad name is an error naming its source, not a fall-through', () => {
    assert.throws(
      () => chooseIdentity({ ...ALL, flag: undefined, userData: { hostname: '../etc', path: '/ud.txt' } }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.exitCode === 2 &&
        error.code === 'EBADHOSTNAME' &&
        error.message.includes("'../etc'") &&
        error.message.includes('user data /ud.txt'),
    );
    assert.throws(() => chooseIdentity({ instanceTag: 'has space', system: 'ok' }), /the EC2 instance tag pacha-host/);
    assert.throws(() => chooseIdentity({ system: '-bad-' }), /the system host name has an invalid label|'-bad-' from the system host name/);
  });

  test('nothing at all', () => {
    assert.throws(() => chooseIdentity({ system: '' }), (e: unknown) => e instanceof ConfigError && e.code === 'ENOHOSTNAME');
  });
});
