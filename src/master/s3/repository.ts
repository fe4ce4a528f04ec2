// One repository on an S3 master, as the git remote helper reads and writes it: fetch
// applies the bundles this side lacks; push makes one incremental bundle, uploads it under
// its own hash (If-None-Match: *), then swaps the pointer (If-Match on its ETag). A lost
// swap starts again from the new pointer, where git's own rule decides: a branch that moved
// to a commit this side does not descend from is refused as non-fast-forward, never
// overwritten, and pacha then keeps this side's history under refs/pacha/diverged/….
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Bucket } from './bucket.js';
import { applyBundle, commitStamps, commitTimes, createBundle, isAncestor, presentCommits, scratchRepository, sha256File, type GitRun } from './git-objects.js';
import { advancePointer, emptyPointer, MAIN_TIMES_DAYS, MAX_MAIN_TIMES, needsCompaction, parsePointer, POINTER, serializePointer, type ChainLink, type Pointer, type RefStamp } from './pointer.js';

/** How often one push starts again after losing the pointer swap before it gives up. */
export const MAX_SWAP_ATTEMPTS = 20;

/** A bundle the pointer names is not in the bucket (deleted by a compaction since, or by hand). */
export class MissingBundleError extends Error {
  override name = 'MissingBundleError';
}

/** The pointer object at `key` and its ETag, parsed (and named in any error); undefined when there is none. */
export async function readPointerAt(bucket: Bucket, key: string): Promise<{ pointer: Pointer; etag: string | undefined } | undefined> {
  const read = await bucket.readText(key);
  return read ? { pointer: parsePointer(read.text, `s3://${bucket.name}/${key}`), etag: read.etag } : undefined;
}

export interface PushSpec {
  force: boolean;
  /** '' deletes dst. */
  src: string;
  dst: string;
}

export type PushResult = { dst: string; ok: true } | { dst: string; ok: false; reason: string };

export function parsePushSpec(spec: string): PushSpec {
  const force = spec.startsWith('+');
  const body = force ? spec.slice(1) : spec;
  const colon = body.lastIndexOf(':');
  return { force, src: body.slice(0, colon), dst: body.slice(colon + 1) };
}

export interface RepositoryOptions {
  bucket: Bucket;
  /** PREFIX/<host>/<name>/ */
  prefix: string;
  git: GitRun;
  /** Where scratch files go (inside the local git dir: same filesystem, private). */
  scratchParent: string;
  /** Written into the pointer: which instance swapped it. */
  instance: string;
  /** Past this many incremental bundles, a push replaces the chain with one full bundle. */
  compactAfter: number;
  log?: (line: string) => void;
}

export class S3Repository {
  constructor(private readonly options: RepositoryOptions) {}

  private get pointerKey(): string {
    return `${this.options.prefix}${POINTER}`;
  }

  async readPointer(): Promise<{ pointer: Pointer; etag: string | undefined }> {
    return (await readPointerAt(this.options.bucket, this.pointerKey)) ?? { pointer: emptyPointer(), etag: undefined };
  }

  private async scratchDir(): Promise<string> {
    await mkdir(this.options.scratchParent, { recursive: true, mode: 0o700 });
    return this.options.scratchParent;
  }

  /** Apply, oldest first, every bundle of the chain whose commits `git` lacks. */
  /** `fresh`: `git` has none of this repository's objects (a new git dir): every bundle is applied, unasked. */
  async fetchInto(git: GitRun, pointer: Pointer, fresh = false): Promise<number> {
    const have = fresh ? new Set<string>() : await presentCommits(git, pointer.chain.flatMap((l) => l.tips));
    const missing = pointer.chain.filter((link) => !link.tips.every((t) => have.has(t)));
    const dir = await this.scratchDir();
    for (const link of missing) {
      const file = path.join(dir, path.basename(link.key));
      const key = `${this.options.prefix}${link.key}`;
      if (!(await this.options.bucket.download(key, file))) {
        throw new MissingBundleError(`s3://${this.options.bucket.name}/${key} is named by the pointer but missing (was the bucket pruned by hand?)`);
      }
      try {
        await applyBundle(git, file);
      } finally {
        await rm(file, { force: true });
      }
    }
    return missing.length;
  }

  /**
   * Apply the current pointer's chain (fetchInto); a compaction may delete a bundle between
   * reading the pointer and downloading it, so a missing one reads the pointer again, once.
   * The pointer applied.
   */
  async fetchLatest(git: GitRun, fresh = false): Promise<Pointer> {
    const { pointer } = await this.readPointer();
    try {
      await this.fetchInto(git, pointer, fresh);
      return pointer;
    } catch (error) {
      if (!(error instanceof MissingBundleError)) throw error;
      const again = (await this.readPointer()).pointer;
      await this.fetchInto(git, again);
      return again;
    }
  }

  async push(specs: PushSpec[]): Promise<PushResult[]> {
    const git = this.options.git;
    for (let attempt = 1; attempt <= MAX_SWAP_ATTEMPTS; attempt++) {
      const { pointer, etag } = await this.readPointer();
      const results: PushResult[] = [];
      const updates: Record<string, string | undefined> = {};
      const olds = Object.values(pointer.refs);
      const have = await presentCommits(git, olds);
      for (const spec of specs) {
        if (spec.src === '') {
          updates[spec.dst] = undefined;
          results.push({ dst: spec.dst, ok: true });
          continue;
        }
        const sha = (await git(['rev-parse', '--verify', `${spec.src}^{commit}`])).trim();
        const old = pointer.refs[spec.dst];
        if (old === sha) {
          results.push({ dst: spec.dst, ok: true });
        } else if (old && !spec.force && !have.has(old)) {
          results.push({ dst: spec.dst, ok: false, reason: 'fetch first' });
        } else if (old && !spec.force && !(await isAncestor(git, old, sha))) {
          results.push({ dst: spec.dst, ok: false, reason: 'non-fast-forward' });
        } else {
          updates[spec.dst] = sha;
          results.push({ dst: spec.dst, ok: true });
        }
      }
      if (Object.keys(updates).length === 0) return results;
      const link = await this.uploadBundle(
        Object.fromEntries(Object.entries(updates).filter((e): e is [string, string] => e[1] !== undefined)),
        olds.filter((sha) => have.has(sha)),
      );
      const now = new Date();
      const stamped = await this.stamp(updates, pointer, have, now);
      const next = advancePointer(pointer, updates, link, { time: now.toISOString(), instance: this.options.instance }, stamped);
      if ((await this.options.bucket.swapText(this.pointerKey, serializePointer(next), etag)) === 'written') {
        if (needsCompaction(next, this.options.compactAfter)) await this.compact().catch((error) => this.options.log?.(`compaction postponed: ${(error as Error).message}`));
        return results;
      }
      this.options.log?.(`s3://${this.options.bucket.name}/${this.pointerKey} changed while pushing; reading it again (attempt ${attempt})`);
    }
    return specs.map((s) => ({ dst: s.dst, ok: false, reason: `the pointer kept changing (${MAX_SWAP_ATTEMPTS} attempts)` }));
  }

  /** The updated refs' stamps and main's new commit times, for `pacha fleet` to read from the pointer alone. */
  private async stamp(updates: Record<string, string | undefined>, pointer: Pointer, have: Set<string>, now: Date): Promise<{ stamps: Record<string, RefStamp>; newMainTimes: number[] }> {
    const set = Object.entries(updates).filter((e): e is [string, string] => e[1] !== undefined);
    const bySha = await commitStamps(this.options.git, set.map(([, sha]) => sha));
    const stamps = Object.fromEntries(set.flatMap(([ref, sha]) => (bySha.has(sha) ? [[ref, bySha.get(sha)!]] : [])));
    const main = updates['refs/heads/main'];
    const old = pointer.refs['refs/heads/main'];
    const newMainTimes = main
      ? await commitTimes(this.options.git, main, old && have.has(old) ? [old] : [], now.getTime() / 1000 - MAIN_TIMES_DAYS * 86400, MAX_MAIN_TIMES)
      : [];
    return { stamps, newMainTimes };
  }

  /** A bundle of `refs` without what `exclude` reaches, uploaded under its hash; undefined when nothing is new. */
  private async uploadBundle(refs: Record<string, string>, exclude: string[]): Promise<ChainLink | undefined> {
    if (Object.keys(refs).length === 0) return undefined;
    const scratch = await scratchRepository(this.options.git, await this.scratchDir());
    try {
      const file = path.join(scratch.dir, 'out.bundle');
      if (!(await createBundle(scratch.git, refs, exclude, file))) return undefined;
      return await this.upload(file, [...new Set(Object.values(refs))]);
    } finally {
      await scratch.dispose();
    }
  }

  private async upload(file: string, tips: string[]): Promise<ChainLink> {
    const hash = await sha256File(file);
    const key = `bundles/${hash}.bundle`;
    await this.options.bucket.createFromFile(`${this.options.prefix}${key}`, file);
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(file));
    return { key, size, tips };
  }

  /**
   * Replace the chain by one full bundle of every ref: a new object, the pointer swapped by
   * CAS, the old bundles deleted only after the swap (a reader holding the old pointer may
   * still be fetching them: it retries on a missing bundle with the new pointer).
   */
  async compact(): Promise<'compacted' | 'raced' | 'short'> {
    const { pointer, etag } = await this.readPointer();
    if (pointer.chain.length <= 1) return 'short';
    const scratch = await scratchRepository(this.options.git, await this.scratchDir());
    let link: ChainLink | undefined;
    try {
      await this.fetchInto(scratch.git, pointer);
      const file = path.join(scratch.dir, 'full.bundle');
      if (!(await createBundle(scratch.git, pointer.refs, [], file))) return 'short';
      // Every object the refs reach must be in the full bundle: check it before trusting it.
      await scratch.git(['bundle', 'verify', '-q', file]);
      link = await this.upload(file, [...new Set(Object.values(pointer.refs))]);
    } finally {
      await scratch.dispose();
    }
    const next: Pointer = { ...pointer, chain: [link] };
    if ((await this.options.bucket.swapText(this.pointerKey, serializePointer(next), etag)) !== 'written') return 'raced';
    for (const old of pointer.chain) if (old.key !== link.key) await this.options.bucket.delete(`${this.options.prefix}${old.key}`);
    this.options.log?.(`compacted s3://${this.options.bucket.name}/${this.options.prefix}: ${pointer.chain.length} bundles into one`);
    return 'compacted';
  }
}
