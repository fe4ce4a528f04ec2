// The gate's own entry point (serve-main.ts) takes exactly the words enrolment writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServeArgs } from '../../../src/cli/commands/serve.js';

test('parseServeArgs: `serve HOST` and `-c CONF serve HOST`, as a forced command names them', () => {
  assert.deepEqual(parseServeArgs(['serve', 'alpha']), { host: 'alpha' });
  assert.deepEqual(parseServeArgs(['-c', '/etc/pacha master.conf', 'serve', 'alpha']), { config: '/etc/pacha master.conf', host: 'alpha' });
  assert.deepEqual(parseServeArgs(['--config', '/etc/pacha.conf', 'serve', 'alpha']), { config: '/etc/pacha.conf', host: 'alpha' });
});

test('parseServeArgs: any other argv is none of its business (another command, extra words, options after serve)', () => {
  for (const args of [[], ['serve'], ['push'], ['serve', 'alpha', 'beta'], ['-c', 'x', 'push', 'alpha'], ['serve', '-c', 'x', 'alpha'], ['--state', 'x', 'serve', 'alpha'], ['-c', 'x', 'serve']]) {
    assert.equal(parseServeArgs(args), undefined, JSON.stringify(args));
  }
});
