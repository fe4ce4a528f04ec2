// `npm run bench`: every bench/*.bench.ts, one after another, each in its own process
// (`node --import tsx FILE`) so one benchmark's heap, handles and warm caches do not colour
// the next. Their output is passed through as it comes. A benchmark that fails is reported
// and the others still run; this runner exits 0 (figures are read, not asserted).
// Before running, it lists each benchmark with how to run it alone and its goal (the
// `Goal`/`Target` lines of the file's leading comment), and installs the anchors some of them
// run beside pacha (lsyncd, rsync: Debian packages) when they are missing and it runs as root.
//   npm run bench                 every benchmark
//   npm run bench -- rebuild      only those whose file name contains "rebuild"
//   npm run bench -- --list       only the list: how to run each, and its goal
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const listOnly = args.includes('--list');
const filters = args.filter((a) => a !== '--list');

/** Debian packages the benchmarks run as anchors, and the command each provides. */
const ANCHORS: Record<string, string> = { lsyncd: '/usr/bin/lsyncd', rsync: '/usr/bin/rsync' };

const files = readdirSync(benchDir)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort();

/** The goal lines of a benchmark's leading comment. */
function goalOf(file: string): string[] {
  const comment: string[] = [];
  for (const line of readFileSync(path.join(benchDir, file), 'utf8').split('\n')) {
    if (!line.startsWith('//')) break;
    comment.push(line.replace(/^\/\/ ?/, ''));
  }
  const leading = comment.findIndex((l) => /^(goals?|targets?)\b/i.test(l.trim()));
  const start = leading !== -1 ? leading : comment.findIndex((l) => /\b(goal|target)s?\b/i.test(l));
  if (start === -1) return ['(figures only, no goal)'];
  const out = [comment[start]!];
  for (const l of comment.slice(start + 1)) {
    if (l.trim() === '' || /^\s*(npm|node|PACHA_)/.test(l)) break;
    if (!/^[a-z(]/.test(l.trim()) && !/^\s/.test(l)) break;
    out.push(l);
  }
  return out;
}

function ensureAnchors(): void {
  const missing = Object.entries(ANCHORS).filter(([, bin]) => !existsSync(bin)).map(([pkg]) => pkg);
  if (missing.length === 0) return;
  const line = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    console.log(`the anchors ${missing.join(', ')} are missing; as root: apt-get update && ${line}`);
    return;
  }
  console.log(`installing ${missing.join(' ')} (apt-get) …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  spawnSync('apt-get', line.split(' ').slice(1), { stdio: 'inherit', env });
}

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

if (files.length === 0) console.log(`no bench/*.bench.ts${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
console.log('benchmarks (each alone: npm run build && node --import tsx bench/NAME.bench.ts):');
for (const file of files) {
  console.log(`  ${file}  (npm run bench -- ${file.replace(/\.bench\.ts$/, '')})`);
  for (const l of goalOf(file)) console.log(`      ${l.trim()}`);
}
if (!listOnly) {
  ensureAnchors();
  const outcomes: string[] = [];
  for (const file of files) {
    console.log(`\n=== ${file} ===`);
    const { code, signal, ms } = await runOne(file);
    const outcome = code === 0 ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`;
    outcomes.push(`${file}: ${outcome} in ${(ms / 1000).toFixed(1)} s`);
  }
  if (files.length) console.log(`\n=== summary ===\n${outcomes.join('\n')}`);
}
process.exitCode = 0;
