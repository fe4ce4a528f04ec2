// v8-flags.ts: which flags are one setting (so a later value replaces an earlier one).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flagSetting } from '../../src/v8-flags.js';

describe('flagSetting', () => {
  it('reads a boolean flag and its negation as one name with two values', () => {
    assert.deepEqual(flagSetting('--opt'), ['opt', 'true']);
    assert.deepEqual(flagSetting('--no-opt'), ['opt', 'false']);
    assert.deepEqual(flagSetting('--no_opt'), ['opt', 'false']);
  });

  it('reads a flag with a value, the value kept whole', () => {
    assert.deepEqual(flagSetting('--semi-space-growth-factor=1'), ['semi-space-growth-factor', '1']);
    assert.deepEqual(flagSetting('--stack_trace_limit=a=b'), ['stack-trace-limit', 'a=b']);
  });
});
