// Deterministic trees of files that look like a server's configuration: many small
// config-like text files and a few large ones (certificate bundles, databases, blobs),
// in nested directories, with a mix of modes. Same seed, same bytes: rounds and runs compare.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** xorshift32: fast, seedable, good enough for filler bytes and choices. */
export function prng(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

export interface TreeSpec {
  files: number;
  /** Of those, how many are large (sizes between largeMin and largeMax bytes). */
  large: number;
  largeMin: number;
  largeMax: number;
  /** Small files: smallMin..smallMax bytes of config-like text. */
  smallMin: number;
  smallMax: number;
  seed: number;
}

export interface TreeFacts {
  files: number;
  directories: number;
  bytes: number;
}

const WORDS = ['server', 'listen', 'port', 'timeout', 'enabled', 'path', 'user', 'group', 'max_connections', 'log_level', 'include', 'cache', 'worker', 'upstream', 'ssl', 'proxy'];

function configText(next: () => number, size: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  while (length < size) {
    const line = `${WORDS[next() % WORDS.length]}_${next() % 1000} = ${WORDS[next() % WORDS.length]}/${next() % 100000}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, size);
}

/** Incompressible bytes (git's zlib gains nothing: the worst case for transfer). */
function randomBytesFrom(next: () => number, size: number): Buffer {
  const buffer = Buffer.allocUnsafe(size + 3);
  for (let i = 0; i < size; i += 4) buffer.writeUInt32LE(next(), i);
  return buffer.subarray(0, size);
}

/** Directory of file i: up to three levels (conf.d/a3/b1), a tenth of the files at the top. */
function directoryOf(i: number): string {
  if (i % 10 === 0) return '.';
  const a = `conf${i % 7}.d`;
  const b = `site${(i >> 3) % 6}`;
  const c = `part${(i >> 5) % 4}`;
  return i % 3 === 0 ? a : i % 3 === 1 ? path.join(a, b) : path.join(a, b, c);
}

const MODES = [0o644, 0o644, 0o644, 0o600, 0o640, 0o755];

/** Write the tree under root (created). Large files alternate text and random bytes. */
export function makeTree(root: string, spec: TreeSpec): TreeFacts {
  const next = prng(spec.seed);
  const directories = new Set<string>();
  let bytes = 0;
  // Spread the large files evenly among the small ones.
  const largeEvery = spec.large > 0 ? Math.floor(spec.files / spec.large) : Infinity;
  for (let i = 0; i < spec.files; i++) {
    const dir = directoryOf(i);
    const absoluteDir = path.join(root, dir);
    if (!directories.has(dir)) {
      mkdirSync(absoluteDir, { recursive: true });
      directories.add(dir);
    }
    const isLarge = i % largeEvery === largeEvery - 1 && Math.floor(i / largeEvery) < spec.large;
    let content: Buffer;
    let name: string;
    if (isLarge) {
      const size = spec.largeMin + (next() % (spec.largeMax - spec.largeMin + 1));
      const binary = Math.floor(i / largeEvery) % 2 === 0;
      content = binary ? randomBytesFrom(next, size) : configText(next, size);
      name = binary ? `blob-${i}.db` : `bundle-${i}.pem`;
    } else {
      const size = spec.smallMin + (next() % (spec.smallMax - spec.smallMin + 1));
      content = configText(next, size);
      name = `file-${i}.conf`;
    }
    const file = path.join(absoluteDir, name);
    writeFileSync(file, content);
    chmodSync(file, MODES[i % MODES.length]!);
    bytes += content.length;
  }
  return { files: spec.files, directories: directories.size, bytes };
}
