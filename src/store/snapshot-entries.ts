// What the daemon's kept snapshot (live.ts) holds per path, compactly (issue 14, target 5:
// daemon RSS ≤ 100 MiB at 50k files). Three maps of strings per entry (its metadata line, its
// stat stamp, its index "mode blob") cost about 390 bytes an entry in V8's heap (19 MiB at
// 50k), and the lines were kept twice: as strings and as the metadata text's encoded blocks.
// Here:
// - one Map from path to a slot number; per slot its flags, its stamp and its index value
//   (the mode as a code, the blob id as 20 bytes: one 21-character string), in arrays;
// - the metadata lines only in the metadata shards' bytes (metadata-files.ts: one block per
//   shard, the bytes hashed and deflated when the shard is written): a block a commit changes
//   is decoded into a Map of its lines until that commit encodes it again (changedShards), so
//   an entry's line is read from the bytes.
// The paths in byte order ('.' first) are kept as one array (`order`): the metadata's order;
// and per shard, its own paths in that order.
import { byteOrder } from '../fs/byte-order.js';
import type { StampSink } from './capture.js';
import { shardOf } from './metadata-files.js';

/** A stat stamp's length (capture.ts statStamp: seven doubles as latin1). */
const STAMP = 56;
/** An index value as kept: the mode's code, then the blob id's 20 bytes. */
const INDEX = 21;

const ENTRY = 1;
const STAMPED = 2;
const INDEXED = 4;

/** The metadata's order of paths: '.' first, then by bytes. Pure. */
export function compareEntries(a: string, b: string): number {
  return a === '.' ? (b === '.' ? 0 : -1) : b === '.' ? 1 : byteOrder(a, b);
}

/** The first index in `order` whose path is not before `rel`. Pure. */
export function lowerBound(order: readonly string[], rel: string): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEntries(order[mid]!, rel) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A shard's lines: its text's bytes between "[\n" and "\n]\n", or (changed since) its entries' lines by path. */
type Block = Buffer | Map<string, string>;

/** A shard a commit changed: its lines as its text holds them (metadata-files.ts shardText), and how many entries it holds now. */
export interface ChangedShard {
  shard: number;
  entries: number;
  block: Buffer;
}

export class SnapshotEntries implements StampSink {
  /** The entries' paths in the metadata's order. Change it only through this class. */
  readonly order: string[] = [];
  private readonly slots = new Map<string, number>();
  // Per slot, in V8's heap (which compacts; buffers allocated beside a full commit's
  // garbage kept ~15 MiB of malloc's heap from being returned at 50k files): flags, the
  // stamp (56 characters), the index value (its mode's code and blob id: 21 latin1 characters).
  private readonly flags: number[] = [];
  private readonly stamps: Array<string | undefined> = [];
  private readonly indexed: Array<string | undefined> = [];
  private readonly free: number[] = [];
  private readonly modes: string[] = [];
  /** Index values not of the form "<mode> <40 hex digits>" (none that git writes for pacha). */
  private readonly oddIndex = new Map<string, string>();
  /** Per shard, its entries' paths in the metadata's order, and its block. */
  private shardPaths: string[][] = [];
  private blocks: Block[] = [];
  /** Shards changed since changedShards() last answered. */
  private readonly dirty = new Set<number>();
  private readonly scratch = Buffer.alloc(INDEX);
  /** The lines until the blocks are first encoded (at the first commit, not beside the full commit's garbage). */
  private pending: readonly string[] | undefined;

  /** The snapshot of these entries (paths in the metadata's order, their lines, their stamps), spread over `shards` shards. */
  constructor(
    paths: readonly string[],
    lines: readonly string[],
    stamps: ReadonlyMap<string, string>,
    readonly shards: number,
  ) {
    for (const rel of paths) {
      this.order.push(rel);
      this.mark(rel, ENTRY);
      const stamp = stamps.get(rel);
      if (stamp !== undefined) this.set(rel, stamp);
    }
    this.pending = lines;
  }

  /** How many entries. */
  get size(): number {
    return this.order.length;
  }

  /** Whether `rel` is an entry. */
  has(rel: string): boolean {
    const slot = this.slots.get(rel);
    return slot !== undefined && (this.flags[slot]! & ENTRY) !== 0;
  }

  // ---- slots

  private mark(rel: string, flag: number): number {
    let slot = this.slots.get(rel);
    if (slot === undefined) {
      slot = this.free.pop();
      if (slot === undefined) {
        slot = this.flags.push(0) - 1;
        this.stamps.push(undefined);
        this.indexed.push(undefined);
      }
      this.slots.set(rel, slot);
    }
    this.flags[slot]! |= flag;
    return slot;
  }

  private unmark(rel: string, flag: number): void {
    const slot = this.slots.get(rel);
    if (slot === undefined) return;
    this.flags[slot]! &= ~flag;
    if (flag & STAMPED) this.stamps[slot] = undefined;
    if (flag & INDEXED) this.indexed[slot] = undefined;
    if (this.flags[slot] === 0) {
      this.slots.delete(rel);
      this.free.push(slot);
    }
  }

  private slotWith(rel: string, flag: number): number | undefined {
    const slot = this.slots.get(rel);
    return slot !== undefined && (this.flags[slot]! & flag) !== 0 ? slot : undefined;
  }

  // ---- stat stamps (of entries, and of paths read but not recorded: an ignored name)

  stamp(rel: string): string | undefined {
    const slot = this.slotWith(rel, STAMPED);
    return slot === undefined ? undefined : this.stamps[slot];
  }

  /** Whether `rel`'s stamp is `stamp`. */
  hasStamp(rel: string, stamp: string): boolean {
    return this.stamp(rel) === stamp;
  }

  /** Record `rel`'s stat stamp: a capture writes into the table as into a Map of stamps (StampSink). */
  set(rel: string, stamp: string): void {
    if (stamp.length !== STAMP) throw new RangeError(`a stat stamp of ${stamp.length} characters for ${rel}`);
    this.stamps[this.mark(rel, STAMPED)] = stamp;
  }

  /** Every stamp replaced by these (a full capture's, of the same entries). */
  replaceStamps(stamps: ReadonlyMap<string, string>): void {
    for (const rel of [...this.slots.keys()]) this.unmark(rel, STAMPED);
    for (const [rel, stamp] of stamps) this.set(rel, stamp);
  }

  // ---- git's index: "mode blob" of files and symlinks

  index(rel: string): string | undefined {
    const slot = this.slotWith(rel, INDEXED);
    if (slot === undefined) return this.oddIndex.get(rel);
    this.scratch.write(this.indexed[slot]!, 'latin1');
    return `${this.modes[this.scratch[0]! - 1]!} ${this.scratch.toString('hex', 1, INDEX)}`;
  }

  setIndex(rel: string, value: string | undefined): void {
    this.oddIndex.delete(rel);
    const space = value === undefined ? -1 : value.indexOf(' ');
    if (value === undefined || space === -1 || !/^[0-9a-f]{40}$/.test(value.slice(space + 1))) {
      this.unmark(rel, INDEXED);
      if (value !== undefined) this.oddIndex.set(rel, value);
      return;
    }
    const mode = value.slice(0, space);
    let code = this.modes.indexOf(mode) + 1;
    if (code === 0) {
      if (this.modes.length === 255) throw new RangeError(`more than 255 index modes (${mode})`);
      code = this.modes.push(mode);
    }
    this.scratch[0] = code;
    this.scratch.write(value.slice(space + 1), 1, 20, 'hex');
    this.indexed[this.mark(rel, INDEXED)] = this.scratch.toString('latin1'); // one flat string
  }

  // ---- lines, in the metadata shards' blocks

  /** The entry's metadata line (JSON), or undefined when it is not an entry. */
  line(rel: string): string | undefined {
    if (!this.has(rel)) return undefined;
    this.laid();
    const shard = shardOf(rel, this.shards);
    const block = this.blocks[shard]!;
    if (!Buffer.isBuffer(block)) return block.get(rel);
    // The k-th line of the block's bytes: "    <line>," (the block's last without the comma).
    let at = 0;
    for (let k = lowerBound(this.shardPaths[shard]!, rel); k > 0; k--) at = block.indexOf(10, at) + 1;
    const end = block.indexOf(10, at);
    return block.toString('utf8', at + 4, end === -1 ? block.length : end - 1);
  }

  /** Record the entry's line (a new entry takes its place in the order); the same line again changes nothing. */
  setLine(rel: string, line: string): void {
    this.laid();
    if (this.has(rel) && this.line(rel) === line) return;
    const shard = shardOf(rel, this.shards);
    const lines = this.decoded(shard);
    if (!this.has(rel)) {
      this.order.splice(lowerBound(this.order, rel), 0, rel);
      const paths = this.shardPaths[shard]!;
      paths.splice(lowerBound(paths, rel), 0, rel);
      this.mark(rel, ENTRY);
    }
    lines.set(rel, line);
  }

  /**
   * The entry at `rel` and every entry below it (withSelf false: only those below) leave,
   * with their stamps; their index values stay (the caller's). `leaving` sees each of them
   * first, while its line and stamp can still be read.
   */
  remove(rel: string, withSelf: boolean, leaving: (rel: string) => void): void {
    this.laid();
    const prefix = rel === '.' ? '' : `${rel}/`;
    const start = rel === '.' ? 1 : lowerBound(this.order, prefix);
    let end = start;
    while (end < this.order.length && this.order[end]!.startsWith(prefix)) end++;
    const self = withSelf && this.has(rel) ? lowerBound(this.order, rel) : -1;
    const gone = this.order.slice(start, end);
    if (self !== -1) gone.push(rel);
    // Every shard holding one of them is decoded before its paths change under it.
    const shards = gone.map((p) => shardOf(p, this.shards));
    for (const shard of new Set(shards)) this.decoded(shard);
    for (const p of gone) leaving(p);
    gone.forEach((p, i) => {
      const shard = shards[i]!;
      (this.blocks[shard] as Map<string, string>).delete(p);
      const paths = this.shardPaths[shard]!;
      paths.splice(lowerBound(paths, p), 1);
      this.unmark(p, ENTRY | STAMPED);
    });
    this.order.splice(start, end - start);
    if (self !== -1) this.order.splice(self, 1); // after the range: rel sorts before what is below it
  }

  /** Shard `shard`'s lines as its text holds them (encoded again if it changed). */
  block(shard: number): Buffer {
    this.laid();
    let block = this.blocks[shard]!;
    if (!Buffer.isBuffer(block)) {
      const lines = block;
      block = Buffer.from(this.shardPaths[shard]!.map((rel) => `    ${lines.get(rel)!}`).join(',\n'));
      this.blocks[shard] = block;
    }
    return block;
  }

  /** How many entries shard `shard` holds. */
  shardSize(shard: number): number {
    this.laid();
    return this.shardPaths[shard]!.length;
  }

  /** The shards changed since the last call, encoded (by shard number); then none is. */
  changedShards(): ChangedShard[] {
    const changed = [...this.dirty].sort((a, b) => a - b).map((shard) => ({ shard, entries: this.shardSize(shard), block: this.block(shard) }));
    this.dirty.clear();
    return changed;
  }

  /**
   * Encode the shards' blocks now (else the first commit does): the lines the snapshot was
   * made from are garbage from then on. The daemon does it once the full commit's garbage
   * is collected (daemon/memory.ts), so an idle daemon keeps no lines.
   */
  layBlocks(): void {
    this.laid();
  }

  private laid(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    const lines: string[][] = Array.from({ length: this.shards }, () => []);
    this.shardPaths = Array.from({ length: this.shards }, () => []);
    this.order.forEach((rel, i) => {
      const shard = shardOf(rel, this.shards);
      this.shardPaths[shard]!.push(rel);
      lines[shard]!.push(`    ${pending[i]!}`);
    });
    this.blocks = lines.map((shard) => Buffer.from(shard.join(',\n')));
  }

  /** Shard `shard` as a Map of its lines (decoded from its bytes the first time), to change: it is then changed. */
  private decoded(shard: number): Map<string, string> {
    this.dirty.add(shard);
    const block = this.blocks[shard]!;
    if (!Buffer.isBuffer(block)) return block;
    const paths = this.shardPaths[shard]!;
    const lines = new Map<string, string>();
    const text = paths.length === 0 ? [] : block.toString().split('\n');
    if (text.length !== paths.length) throw new Error(`the kept metadata's shard ${shard} holds ${text.length} lines for ${paths.length} entries`);
    for (let k = 0; k < text.length; k++) lines.set(paths[k]!, text[k]!.slice(4, k + 1 < text.length ? -1 : undefined));
    this.blocks[shard] = lines;
    return lines;
  }
}
