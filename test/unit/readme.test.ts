import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configReference } from '../../src/config/reference.js';
import { KEY_NAMES } from '../../src/config/keys.js';
import { errorCodeReference } from '../../src/error-codes.js';

const readme = readFileSync('README.md', 'utf8');

test("the README's configuration reference is the key table's", () => {
  const section = readme.split('<!-- config-reference:start -->\n')[1]?.split('\n<!-- config-reference:end -->')[0];
  assert.equal(section, configReference(), 'run `npm run readme`');
  for (const key of KEY_NAMES) assert.ok(section.includes(`\`${key}\``), key);
});

test("the README's exit-code section is the error catalogue's", () => {
  const section = readme.split('<!-- error-codes:start -->\n')[1]?.split('\n<!-- error-codes:end -->')[0];
  assert.equal(section, errorCodeReference(), 'run `npm run readme`');
});

test('the README starts with the demo and the test command', () => {
  const firstBlock = readme.split('```sh\n')[1]?.split('```')[0] ?? '';
  assert.match(firstBlock, /^npm install && npm run demo/m);
  assert.match(firstBlock, /^npm test/m);
});
