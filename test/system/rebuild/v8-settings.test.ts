// The rebuild's V8 settings (src/rebuild/v8-settings.ts), in a node child process of its own
// (they are process-wide): set at run time, the optimizing compiler is off from then on, and
// node takes every flag without a word (node 20 and 22 both run this).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { OPTIMIZE_FROM_ENTRIES } from '../../../src/rebuild/v8-settings.js';
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

  it('turns the optimizing compiler back on once the run has staged OPTIMIZE_FROM_ENTRIES entries, not before', () => {
    const staged = (counts: number[]): string =>
      inNode(`settings.rebuildV8Settings();\n${counts.map((n) => `settings.stagedEntries(${n});`).join(' ')}\n${HOT_FUNCTION}`);
    assert.equal(staged([10, 20]), 'interpreted');
    assert.equal(staged([OPTIMIZE_FROM_ENTRIES - 1]), 'interpreted');
    assert.equal(staged([OPTIMIZE_FROM_ENTRIES / 2, OPTIMIZE_FROM_ENTRIES / 2]), 'optimized', 'the run\'s total counts, across repositories');
  });

  it('leaves a process that never took the rebuild settings as it is', () => {
    assert.equal(inNode(`settings.stagedEntries(${OPTIMIZE_FROM_ENTRIES});\n${HOT_FUNCTION}`), 'optimized');
  });

  it('lets a daemon started after a large rebuild in the same process (boot) turn the compiler off again', () => {
    const daemonMemory = fileURLToPath(new URL('../../../dist/daemon/memory.js', import.meta.url));
    const body = `settings.rebuildV8Settings(); settings.stagedEntries(${OPTIMIZE_FROM_ENTRIES});\nconst memory = await import(${JSON.stringify(daemonMemory)}); memory.daemonHeapSettings();\n${HOT_FUNCTION}`;
    assert.equal(inNode(body), 'interpreted');
  });
});
