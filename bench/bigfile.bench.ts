// Big files (issue 9, item 5): a 4-byte edit to a 500 MB tracked file, then `pacha push`.
// Peak memory under `/usr/bin/time -v` ("Maximum resident set size": the largest process of
// the tree it waited for — node, git, git pack-objects, and on the local master the
// receiving git, which runs as a child of the push), against the same edit committed and
// pushed by plain git with its default settings (pack.windowMemory unlimited,
// core.bigFileThreshold 512m: a 500 MB blob is delta-compressed in memory).
// pacha's repositories carry core.bigFileThreshold=16m, pack.windowMemory=64m,
// pack.deltaCacheSize=32m, pack.threads=1 (src/store/git.ts): blobs above 16 MB are
// streamed and stored whole, never delta-compressed; the master's repositories the same,
// plus receive.unpackLimit=1 (src/master/layout.ts).
// Measured here (2 cores, heavily shared: times are not comparable, peaks are):
//   pacha watch (first commit and push)        peak   68 MiB
//   pacha push after a 4-byte edit             peak   68 MiB
//   plain git (defaults): push after the edit  peak 2382 MiB  (273 s)
//   npm run build && node --import tsx bench/bigfile.bench.ts      (~8 min here, most of it plain git; ~3 GB of disk)
// PACHA_BENCH_PACHA_ONLY=1 skips the plain-git comparison.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { makeWorld } from '../test/helpers/world.js';
import { CLI } from './lib/pacha.js';

const SIZE_MB = Number(process.env.PACHA_BENCH_BIGFILE_MB ?? 500);

interface Timed {
  code: number | null;
  peakMb: number;
  seconds: number;
}

/** Run a command under GNU time -v: exit code, peak RSS (MiB) and wall time. */
function timed(argv: string[], env: NodeJS.ProcessEnv = process.env): Timed {
  const r = spawnSync('/usr/bin/time', ['-v', ...argv], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const kib = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const seconds = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : NaN;
  if (r.status !== 0) console.error(r.stderr.split('\n').slice(0, 20).join('\n'));
  return { code: r.status, peakMb: kib / 1024, seconds };
}

function editFourBytes(file: string, bytes: string): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from(bytes), 0, 4, Math.floor((SIZE_MB * 1024 * 1024) / 2));
  closeSync(fd);
}

const line = (what: string, t: Timed): string => `${what.padEnd(44)} exit ${t.code}  peak ${t.peakMb.toFixed(0).padStart(5)} MiB  ${t.seconds.toFixed(1).padStart(6)} s`;

const world = await makeWorld({ ssh: false });
const foo = path.join(world.root, 'opt/data');
mkdirSync(foo, { recursive: true });
const big = path.join(foo, 'big.img');
execFileSync('dd', ['if=/dev/urandom', `of=${big}`, 'bs=1M', `count=${SIZE_MB}`, 'status=none']);
const pacha = (args: string[]) => timed([process.execPath, CLI, '-c', world.config, ...args]);

console.log(`a ${SIZE_MB} MB file of random bytes; the master is a local directory (its receiving git is a child of the push)`);
console.log(line('pacha watch (first commit and push)', pacha(['watch', foo])));
editFourBytes(big, 'EDIT');
console.log(line('pacha push after a 4-byte edit', pacha(['push'])));

if (process.env.PACHA_BENCH_PACHA_ONLY === '1') process.exit(0);

// Plain git with its defaults, the same file and edit: what pacha's settings avoid.
const plain = path.join(world.dir, 'plain');
const bare = path.join(world.dir, 'plain-master.git');
mkdirSync(plain);
execFileSync('cp', ['--reflink=auto', big, path.join(plain, 'big.img')]);
const git = (...args: string[]) => execFileSync('git', ['-C', plain, '-c', 'user.name=b', '-c', 'user.email=b@b', ...args], { stdio: 'ignore' });
execFileSync('git', ['init', '-q', '--bare', bare]);
git('init', '-q', '-b', 'main');
git('add', 'big.img');
git('commit', '-q', '-m', 'one');
git('push', '-q', bare, 'main');
editFourBytes(path.join(plain, 'big.img'), 'TIDE');
git('commit', '-q', '-a', '-m', 'two');
console.log(line('plain git (defaults): push after the edit', timed(['git', '-C', plain, 'push', '-q', bare, 'main'])));
