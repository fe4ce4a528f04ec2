// The shape of src/'s import graph: no cycles, and the command line on top (nothing outside
// src/cli/ imports it). Forty lines of our own rather than madge or dependency-cruiser: the
// code base writes every import one way (`from '../x.js'`, `import('../x.js')`), so a pattern
// reads them all, static imports, re-exports and import() alike, with nothing to install.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const SRC = path.resolve('src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(path.join(dir, d.name)) : /\.ts$/.test(d.name) && !d.name.endsWith('.d.ts') ? [path.join(dir, d.name)] : [],
  );
}

/** file (relative to src/) → the files of src/ it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)]
      .map((m) => m[1]!)
      .map((name) => path.relative(SRC, path.resolve(path.dirname(file), name.replace(/\.js$/, '.ts'))));
    graph.set(path.relative(SRC, file), [...new Set(targets)]);
  }
  return graph;
}

/** Every cycle, each once, as the files around it (depth-first search, grey/black marks). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    trail.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...trail.slice(trail.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    trail.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return found;
}

const graph = importGraph();

test('the import graph of src/ is read (every relative import names a file of src/)', () => {
  assert.ok(graph.size > 50, `${graph.size} files`);
  for (const [file, targets] of graph) for (const target of targets) assert.ok(graph.has(target), `${file} imports ${target}, which is not in src/`);
});

test('src/ has no import cycle', () => {
  assert.deepEqual(cycles(graph).map((c) => c.join(' → ')), []);
});

test('nothing below src/cli/ imports it: the command line sits on top', () => {
  const below = [...graph].flatMap(([file, targets]) => (file.startsWith(`cli${path.sep}`) ? [] : targets.filter((t) => t.startsWith(`cli${path.sep}`)).map((t) => `${file} → ${t}`)));
  assert.deepEqual(below, []);
});

test('the cycle finder finds a cycle (a graph made for the purpose)', () => {
  const made = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
  assert.deepEqual(cycles(made), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
});
