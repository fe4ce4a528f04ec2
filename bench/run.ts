// `npm run bench`: every bench/*.bench.ts, one after another, each in its own process
// (`node --import tsx FILE`) so one benchmark's heap, handles and warm caches do not colour
// the next. Their output is passed through as it comes. A benchmark that fails is reported
// and the others still run; this runner exits 0 (figures are read, not asserted).
//   npm run bench                 every benchmark
//   npm run bench -- rebuild      only those whose file name contains "rebuild"
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);

const files = readdirSync(benchDir)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort();

function runOne(file: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(benchDir, file)], {
      cwd: path.dirname(benchDir),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', (error) => {
      console.error(`cannot start ${file}: ${error.message}`);
      resolve({ code: null, signal: null, ms: Date.now() - started });
    });
    child.once('close', (code, signal) => resolve({ code, signal, ms: Date.now() - started }));
  });
}

/** A benchmark's header comment up to its first blank comment line: what it measures and its goal. */
function purpose(file: string): string {
  const lines: string[] = [];
  for (const line of readFileSync(path.join(benchDir, file), 'utf8').split('\n')) {
    if (!line.startsWith('//') || line.trim() === '//' || lines.length === 4) break;
    lines.push(line.replace(/^\/\/ ?/, '  '));
  }
  return lines.join('\n');
}

console.log('npm run bench [-- NAME …]: every bench/*.bench.ts, or those whose file name contains NAME; each file\'s header says its settings (PACHA_BENCH_*)');
if (files.length === 0) console.log(`no bench/*.bench.ts${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
const outcomes: string[] = [];
for (const file of files) {
  console.log(`\n=== ${file} ===   (alone: npm run bench -- ${file.replace(/\.bench\.ts$/, '')})\n${purpose(file)}`);
  const { code, signal, ms } = await runOne(file);
  const outcome = code === 0 ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`;
  outcomes.push(`${file}: ${outcome} in ${(ms / 1000).toFixed(1)} s`);
}
if (files.length) console.log(`\n=== summary ===\n${outcomes.join('\n')}`);
process.exitCode = 0;
