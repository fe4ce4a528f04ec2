// The script git runs as pacha's S3 remote helper starts pacha's own entry: the one the CLI
// recorded when it started (own-entry.ts: the installed bundle's bin.js, not the chunk the S3
// code sits in), else the tsc build's dist/cli/main.js found from where s3-master sits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ownEntry, recordOwnEntry } from '../../../../src/own-entry.js';
import { pachaEntry } from '../../../../src/master/s3/s3-master.js';

test('a recorded entry wins over where the S3 code sits (a chunk of the split bundle)', () => {
  assert.equal(pachaEntry('file:///usr/lib/node_modules/pacha/dist/bundle/chunks/chunk-ABC.js', '/usr/lib/node_modules/pacha/dist/bundle/bin.js'), '/usr/lib/node_modules/pacha/dist/bundle/bin.js');
});

test('nothing recorded: the tsc build\'s main.js, from dist/ or from src/ (tests under tsx)', () => {
  assert.equal(pachaEntry('file:///opt/pacha/dist/master/s3/s3-master.js', undefined), '/opt/pacha/dist/cli/main.js');
  assert.equal(pachaEntry('file:///opt/pacha/src/master/s3/s3-master.ts', undefined), '/opt/pacha/dist/cli/main.js');
});

test('the first entry recorded stays: bin.js, then the main.js it imports', () => {
  assert.equal(ownEntry(), undefined);
  recordOwnEntry('file:///opt/pacha/dist/bundle/bin.js');
  recordOwnEntry('file:///opt/pacha/dist/bundle/chunks/main-XYZ.js');
  assert.equal(ownEntry(), '/opt/pacha/dist/bundle/bin.js');
  assert.equal(pachaEntry(), '/opt/pacha/dist/bundle/bin.js');
});
