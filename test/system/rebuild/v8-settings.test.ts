// The rebuild's V8 settings (src/rebuild/v8-settings.ts), in a node child process of its own
// (they are process-wide): set at run time, the optimizing compiler is off from then on, and
// node takes every flag without a word (node 20 and 22 both run this).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { HOT_FUNCTION, inNodeWith } from '../../helpers/v8-probe.js';

const SETTINGS = fileURLToPath(new URL('../../../dist/rebuild/v8-settings.js', import.meta.url));

const inNode = (body: string): string => inNodeWith(SETTINGS, 'settings', body, ['--allow-natives-syntax']);

describe('rebuild V8 settings', () => {
  it('turns the optimizing compiler off at run time: a hot function stays unoptimized', () => {
    assert.equal(inNode(`settings.rebuildV8Settings();\n${HOT_FUNCTION}`), 'interpreted');
    assert.equal(inNode(HOT_FUNCTION), 'optimized', 'node optimizes it by default (else this test proves nothing)');
  });

  it('can be asked twice (boot, then a daemon in the same process), and node says nothing', () => {
    assert.equal(inNode(`settings.rebuildV8Settings(); settings.rebuildV8Settings();\n${HOT_FUNCTION}`), 'interpreted');
  });
});
