// 10 × 10 × 10 leaf directories of 10 small files each: 10,000 files in 1,000 leaf
// directories (1,111 directories with the two levels above them) — the tree issue 3's
// footprint figures are about, and the one bench/watcher-choice.ts chose the watcher on.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function makeLeafTree(root: string, fan = 10): { files: number; directories: number } {
  for (let a = 0; a < fan; a++)
    for (let b = 0; b < fan; b++)
      for (let c = 0; c < fan; c++) {
        const dir = path.join(root, `d${a}`, `d${b}`, `d${c}`);
        mkdirSync(dir, { recursive: true });
        for (let f = 0; f < fan; f++) writeFileSync(path.join(dir, `f${f}.conf`), `key = ${a}${b}${c}${f}\n`);
      }
  return { files: fan ** 4, directories: 1 + fan + fan ** 2 + fan ** 3 };
}
