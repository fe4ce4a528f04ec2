import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDACTED, isSecretValue, looksLikePrivateKey, redactDeep, redactText, rememberSecret } from '../../../src/config/redact.js';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nQyNTUxOQAAACDx4Q7hZsomeMoreBase64Here\n-----END OPENSSH PRIVATE KEY-----\n';

test('a private key block is redacted wherever it appears, whole or cut short', () => {
  assert.equal(redactText(`value '${KEY}' is not a path`), `value '${REDACTED}\n' is not a path`);
  assert.equal(redactText(`label '${KEY.slice(0, 60)}`), `label '${REDACTED}`);
  assert.ok(looksLikePrivateKey(KEY));
  assert.ok(!looksLikePrivateKey('ssh-ed25519 AAAAC3Nza… public keys are not secret'));
  assert.equal(redactText('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5');
});

test('a remembered secret (a SecureString) is redacted whole, line by line, and as a JSON string', () => {
  const password = 'correct horse battery staple\nsecond line of it';
  assert.ok(!isSecretValue(password));
  rememberSecret(password);
  assert.ok(isSecretValue(password));
  assert.equal(redactText(`got ${password} here`), `got ${REDACTED} here`);
  assert.equal(redactText('only: second line of it'), `only: ${REDACTED}`);
  assert.equal(redactText(JSON.stringify({ v: password })), JSON.stringify({ v: REDACTED }));
  assert.deepEqual(redactDeep({ a: [{ b: `x ${password}` }], n: 3 }), { a: [{ b: `x ${REDACTED}` }], n: 3 });
  // Short fragments are not remembered alone: ordinary words stay.
  rememberSecret('abc\nxy');
  assert.equal(redactText('abc is a word'), 'abc is a word');
});
