import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KEY_NAMES } from '../../../src/config/keys.js';
import { editDistance, nearest } from '../../../src/config/suggest.js';

test('editDistance counts insertions, deletions and substitutions', () => {
  assert.equal(editDistance('', ''), 0);
  assert.equal(editDistance('abc', 'abc'), 0);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('abc', ''), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('usr', 'user'), 1);
  assert.equal(editDistance('flaw', 'lawn'), 2);
  assert.equal(editDistance('ab', 'ba'), 2);
});

test('editDistance is symmetric', () => {
  for (const [a, b] of [['pacha.ssh.usr', 'pacha.ssh.user'], ['frequency', 'frequncy'], ['x', 'pacha.host']] as const) {
    assert.equal(editDistance(a, b), editDistance(b, a));
  }
});

test('nearest names the key a typo meant', () => {
  assert.equal(nearest('pacha.ssh.usr', KEY_NAMES), 'pacha.ssh.user');
  assert.equal(nearest('pacha.frequncy', KEY_NAMES), 'pacha.frequency');
  assert.equal(nearest('pacha.hosts_path', KEY_NAMES), 'pacha.hosts.path');
  assert.equal(nearest('PACHA.SSH.PORT', KEY_NAMES), 'pacha.ssh.port');
  assert.equal(nearest('pacha.ssh.prot', KEY_NAMES), 'pacha.ssh.port');
});

test('nearest suggests nothing for a name nothing resembles', () => {
  assert.equal(nearest('completely.unrelated.setting', KEY_NAMES), undefined);
  assert.equal(nearest('zzz', KEY_NAMES), undefined);
  assert.equal(nearest('x', []), undefined);
});
