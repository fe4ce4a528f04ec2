// What a tree holds (path → type, mode, size, content hash), to check that a restore put
// back exactly what was there. Read outside the timed part of a benchmark.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export type Manifest = Map<string, string>;

/** Entries under root (root itself excluded), each described in one comparable string. */
export function manifestOf(root: string, options: { modes?: boolean; skip?: (rel: string) => boolean } = {}): Manifest {
  const out: Manifest = new Map();
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(root, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      if (options.skip?.(child)) continue;
      const absolute = path.join(root, child);
      const stats = lstatSync(absolute);
      const mode = options.modes === false ? '' : ` ${(stats.mode & 0o7777).toString(8)}`;
      if (stats.isDirectory()) {
        out.set(child, `dir${mode}`);
        walk(child);
      } else if (stats.isSymbolicLink()) {
        out.set(child, `symlink ${readlinkSync(absolute)}`);
      } else {
        out.set(child, `file${mode} ${stats.size} ${createHash('sha1').update(readFileSync(absolute)).digest('hex')}`);
      }
    }
  };
  walk('');
  return out;
}

/** Differences between what was expected and what is there (at most `limit` of them). */
export function compareManifests(expected: Manifest, actual: Manifest, limit = 5): string[] {
  const problems: string[] = [];
  for (const [p, want] of expected) {
    const got = actual.get(p);
    if (got !== want) problems.push(`${p}: expected ${want}, found ${got ?? 'nothing'}`);
    if (problems.length >= limit) return problems;
  }
  for (const p of actual.keys()) {
    if (!expected.has(p)) problems.push(`${p}: not expected`);
    if (problems.length >= limit) break;
  }
  return problems;
}
