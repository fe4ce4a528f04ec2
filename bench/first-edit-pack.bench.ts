// The push of the first edit after a full commit (the daemon's start, a full reconcile that
// found changes), against the push of a later edit, on the same tree in the same run.
// Each one-edit push carries the changed file, its trees, the commit and the metadata shard
// its entry is in (store/metadata-files.ts); before shards, the first edit carried the whole
// metadata (about 0.5 MiB deflated at 50k files here, and with longer paths over the 1 MiB a
// fast update takes: the push then went by `git push`), later ones a delta against it.
// Goal: the first edit's pack ≤ 2 × a later edit's (the anchor), and under the fast update's limit.
// The store is driven as the daemon drives it (keepSnapshots, settleSnapshots after the full
// commit); names are varied (hex words), so the metadata compresses as a real tree's does
// rather than as a list of d0/d1/f1.conf.
//   node --import tsx bench/first-edit-pack.bench.ts
//   PACHA_BENCH_SIZES=10000,50000 (files)
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FAST_UPDATE_MAX_PACK_BYTES } from '../src/master/fast-update.js';
import { packFile } from '../src/store/pack-file.js';
import { Store } from '../src/store/store.js';

const SIZES = (process.env.PACHA_BENCH_SIZES ?? '10000,50000').split(',').map(Number);
const GOAL = 2;

/** A word of hex from a fixed sequence (the same tree every run). */
function words(seed: number): () => string {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x.toString(16).padStart(8, '0');
  };
}

/**
 * `files` files, 10 per directory, 10 directories per level (as cost-per-change.bench.ts),
 * each directory and file with a varied name.
 */
function makeTree(root: string, files: number): string {
  const next = words(files);
  const names = new Map<string, string>();
  const named = (key: string, prefix: string): string => {
    let name = names.get(key);
    if (name === undefined) names.set(key, (name = `${prefix}${next()}`));
    return name;
  };
  let first = '';
  for (let i = 0; i < files; i++) {
    const leaf = Math.floor(i / 10);
    const top = named(`t${Math.floor(leaf / 100)}`, 'svc-');
    const mid = named(`m${Math.floor(leaf / 10)}`, 'conf.d-');
    const dir = path.join(root, top, mid, named(`l${leaf}`, 'unit-'));
    if (i % 10 === 0) mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${next()}.conf`);
    writeFileSync(file, `key = ${i}\n`);
    if (i === 0) first = path.relative(root, file);
  }
  return first;
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
let met = true;
console.log('| files | first edit: pack | later edit: pack | ratio (goal ≤ 2) | first edit within the fast update limit |\n|---|---|---|---|---|');
for (const files of SIZES) {
  const root = path.join(os.tmpdir(), `pacha-bench-first-edit-${process.pid}-${files}`);
  try {
    const app = path.join(root, 'etc', 'app');
    const edited = makeTree(app, files);
    const store = await Store.open(path.join(root, 'state'), 'bar');
    store.keepSnapshots = true;
    const { tracked } = await store.track(app);
    await store.commit(tracked);
    store.settleSnapshots(); // the daemon does this a moment after a full commit (daemon/memory.ts)
    const packs: number[] = [];
    for (let n = 1; n <= 2; n++) {
      writeFileSync(path.join(app, edited), `key = edit ${n}\n`);
      await store.commit(tracked, { changed: [edited] });
      if (store.lastCommitRead !== 'changed') throw new Error(`edit ${n} was a full commit (${store.lastFullReason})`);
      const pack = await packFile(store.lastLiveCommit(tracked)?.objects ?? []);
      if (!pack) throw new Error(`edit ${n}: no pack (its objects were too big to keep)`);
      packs.push(pack.length);
    }
    const [first, later] = packs as [number, number];
    const ratio = first / later;
    const fits = first <= FAST_UPDATE_MAX_PACK_BYTES;
    if (ratio > GOAL || !fits) met = false;
    console.log(`| ${files} | ${kib(first)} | ${kib(later)} | ${ratio.toFixed(2)} | ${fits ? 'yes' : 'no: git push'} |`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
console.log(`goal: the first edit's pack ≤ ${GOAL} × a later edit's, within ${kib(FAST_UPDATE_MAX_PACK_BYTES)}: ${met ? 'met' : 'MISSED'}`);
