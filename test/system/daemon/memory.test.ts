// The daemon's own memory settings (src/daemon/memory.ts), each in a node child process of
// its own (they are process-wide): the young generation stays at its first size under a
// burst, the optimizing compiler is off, the full collection is had without --expose-gc and
// frees what it should, and node takes every flag without a word (node 20 and 22 both run this).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { HOT_FUNCTION, inNodeWith } from '../../helpers/v8-probe.js';

const MEMORY = fileURLToPath(new URL('../../../dist/daemon/memory.js', import.meta.url));

/** Run `body` in a fresh node with `memory` imported; its stdout, trimmed. */
const inNode = (body: string, nodeArgs: string[] = []): string => inNodeWith(MEMORY, 'memory', body, nodeArgs);

const BURST =
  'let keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 20000) keep = []; }' +
  'const v8 = await import("node:v8"); console.log(v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size);';

describe('daemon memory settings', () => {
  it('keeps the young generation at its first size under a burst of allocations, set at run time', () => {
    assert.ok(Number(inNode(`memory.daemonHeapSettings();\n${BURST}`)) <= 2 * 1024 * 1024);
    assert.ok(Number(inNode(BURST)) > 4 * 1024 * 1024, 'without the settings the burst grows the new space (else this test proves nothing)');
  });

  it('turns the optimizing compiler off: a hot function stays unoptimized', () => {
    assert.equal(inNode(`memory.daemonHeapSettings();\n${HOT_FUNCTION}`, ['--allow-natives-syntax']), 'interpreted');
    assert.equal(inNode(HOT_FUNCTION, ['--allow-natives-syntax']), 'optimized', 'node optimizes it by default (else this test proves nothing)');
  });

  it('has a full collection without --expose-gc, which frees unreachable memory, and leaves no global gc', () => {
    const out = inNode(
      'const collect = memory.fullCollection();\n' +
        'let garbage = Array.from({ length: 300000 }, (_, i) => ({ i, s: "entry " + i }));\n' +
        'const before = process.memoryUsage().heapUsed; garbage = undefined; collect();\n' +
        'console.log(JSON.stringify({ type: typeof collect, global: typeof globalThis.gc, freedMiB: (before - process.memoryUsage().heapUsed) / 1048576 }));',
    );
    const { type, global, freedMiB } = JSON.parse(out) as { type: string; global: string; freedMiB: number };
    assert.equal(type, 'function');
    assert.equal(global, 'undefined');
    assert.ok(freedMiB > 10, `freed ${freedMiB.toFixed(1)} MiB`);
  });

  it('collects once, a moment after full commits that come together, in a process that goes on', () => {
    // releaseAfterFullCommit's timer does not keep node alive: the process below exits on its own,
    // and one collection runs for several calls (counted by V8's own GC callbacks via PerformanceObserver).
    const out = inNode(
      'const { PerformanceObserver } = await import("node:perf_hooks");\n' +
        'let majors = 0; new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.detail?.kind === 4 || e.kind === 4) majors++; }).observe({ entryTypes: ["gc"] });\n' +
        'memory.releaseAfterFullCommit(); memory.releaseAfterFullCommit(); memory.releaseAfterFullCommit();\n' +
        'const alive = setInterval(() => {}, 100);\n' +
        `setTimeout(() => { clearInterval(alive); console.log(majors); }, memory.RELEASE_DELAY_MS + 500);`,
    );
    assert.equal(Number(out), 1);
  });

  it('settles each owner once, between two collections: the first frees the commit\'s garbage, the second what settling dropped', () => {
    const out = inNode(
      'const { PerformanceObserver } = await import("node:perf_hooks");\n' +
        'let majors = 0; new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.detail?.kind === 4) majors++; }).observe({ entryTypes: ["gc"] });\n' +
        'const used = () => process.memoryUsage().heapUsed / 1048576;\n' +
        'let garbage = Array.from({ length: 300000 }, (_, i) => ({ i, s: "entry " + i }));\n' +
        'let lines = Array.from({ length: 300000 }, (_, i) => ({ i, s: "line " + i }));\n' +
        'const before = used(); garbage = undefined;\n' +
        'const owner = { calls: 0, at: 0, settleSnapshots() { this.calls++; this.at = used(); lines = undefined; } };\n' +
        'const other = { calls: 0, settleSnapshots() { this.calls++; } };\n' +
        'memory.releaseAfterFullCommit(owner); memory.releaseAfterFullCommit(owner); memory.releaseAfterFullCommit(other); memory.releaseAfterFullCommit();\n' +
        'const alive = setInterval(() => {}, 100);\n' +
        'setTimeout(() => { clearInterval(alive); console.log(JSON.stringify({ owner: owner.calls, other: other.calls, first: before - owner.at, second: owner.at - used(), majors })); }, memory.RELEASE_DELAY_MS + 500);',
    );
    const { owner, other, first, second, majors } = JSON.parse(out) as { owner: number; other: number; first: number; second: number; majors: number };
    assert.equal(owner, 1, 'an owner given three times settles once');
    assert.equal(other, 1);
    assert.ok(first > 10, `the commit's garbage was collected before settling (${first.toFixed(1)} MiB)`);
    assert.ok(second > 10, `what settling dropped was collected after it (${second.toFixed(1)} MiB)`);
    assert.equal(majors, 2);
  });
});
