// What the daemon's kept snapshot (live.ts) holds per path, compactly (issue 14, target 5:
// daemon RSS ≤ 100 MiB at 50k files). Three maps of strings per entry (its metadata line, its
// stat stamp, its index "mode blob") cost about 390 bytes an entry in V8's heap (19 MiB at
// 50k), and the lines were kept twice: as strings and as the metadata text's encoded blocks.
// Here:
// - one Map from path to a slot number; per slot its flags, its stamp and its index value
//   (the mode as a code, the blob id as 20 bytes: one 21-character string), in arrays;
// - the metadata lines only in the metadata text's blocks (the bytes hashed and deflated at
//   each commit): a block a commit changes is decoded into a Map of its lines until the next
//   commit's text is encoded (metadataPieces), so an entry's line is read from the bytes.
// The paths in byte order ('.' first) are kept as one array (`order`): the metadata's order.
import { byteOrder } from '../fs/byte-order.js';
import type { StampSink } from './capture.js';

/** Entries per block of the metadata text when the fences are laid. */
const BLOCK = 256;
/** A stat stamp's length (capture.ts statStamp: six doubles as latin1). */
const STAMP = 48;
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

/** A block of the metadata text: its bytes, or (changed since) its entries' lines by path. */
type Block = Buffer | Map<string, string>;

export class SnapshotEntries implements StampSink {
  /** The entries' paths in the metadata's order. Change it only through this class. */
  readonly order: string[] = [];
  private readonly slots = new Map<string, number>();
  // Per slot, in V8's heap (which compacts; buffers allocated beside a full commit's
  // garbage kept ~15 MiB of malloc's heap from being returned at 50k files): flags, the
  // stamp (48 characters), the index value (its mode's code and blob id: 21 latin1 characters).
  private readonly flags: number[] = [];
  private readonly stamps: Array<string | undefined> = [];
  private readonly indexed: Array<string | undefined> = [];
  private readonly free: number[] = [];
  private readonly modes: string[] = [];
  /** Index values not of the form "<mode> <40 hex digits>" (none that git writes for pacha). */
  private readonly oddIndex = new Map<string, string>();
  /** block i holds the entries from fences[i] (inclusive) to fences[i + 1]. */
  private fences: string[] = [];
  private blocks: Block[] = [];
  private readonly scratch = Buffer.alloc(INDEX);
  /** The lines until the blocks are first encoded (at the first commit, not beside the full commit's garbage). */
  private pending: readonly string[] | undefined;

  /** The snapshot of these entries (paths in the metadata's order, their lines, their stamps). */
  constructor(paths: readonly string[], lines: readonly string[], stamps: ReadonlyMap<string, string>) {
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

  // ---- lines, in the metadata text's blocks

  /** The entry's metadata line (JSON), or undefined when it is not an entry. */
  line(rel: string): string | undefined {
    if (!this.has(rel)) return undefined;
    this.laid();
    const f = this.blockOf(rel);
    const block = this.blocks[f]!;
    if (!Buffer.isBuffer(block)) return block.get(rel);
    // The k-th line of the block's bytes: "    <line>," (the block's last without the comma).
    let at = 0;
    for (let k = lowerBound(this.order, rel) - lowerBound(this.order, this.fences[f]!); k > 0; k--) at = block.indexOf(10, at) + 1;
    const end = block.indexOf(10, at);
    return block.toString('utf8', at + 4, end === -1 ? block.length : end - 1);
  }

  /** Record the entry's line (a new entry takes its place in the order). */
  setLine(rel: string, line: string): void {
    this.laid();
    const lines = this.decoded(this.blockOf(rel));
    if (!this.has(rel)) {
      this.order.splice(lowerBound(this.order, rel), 0, rel);
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
    // Every block holding one of them is decoded before the order changes under it.
    const blocks = gone.map((p) => this.blockOf(p));
    for (const f of new Set(blocks)) this.decoded(f);
    for (const p of gone) leaving(p);
    gone.forEach((p, i) => {
      (this.blocks[blocks[i]!] as Map<string, string>).delete(p);
      this.unmark(p, ENTRY | STAMPED);
    });
    this.order.splice(start, end - start);
    if (self !== -1) this.order.splice(self, 1); // after the range: rel sorts before what is below it
  }

  /**
   * The metadata file's entries as bytes, in blocks (hashed and deflated as they are, never
   * copied into one buffer); only blocks changed since the last call are encoded again.
   */
  metadataPieces(): Buffer[] {
    this.laid();
    // Lay the fences again when blocks grew far past their size.
    if (this.order.length > (this.fences.length + 1) * BLOCK * 4) {
      const lines = this.blocks.flatMap((_, f) => {
        const [start, end] = this.rangeOf(f);
        const decoded = this.decoded(f);
        return this.order.slice(start, end).map((rel) => decoded.get(rel)!);
      });
      this.layFences(lines);
    }
    const pieces: Buffer[] = [];
    for (let f = 0; f < this.blocks.length; f++) {
      let block = this.blocks[f]!;
      if (!Buffer.isBuffer(block)) {
        const lines = block;
        const [start, end] = this.rangeOf(f);
        block = Buffer.from(this.order.slice(start, end).map((rel) => `    ${lines.get(rel)!}`).join(',\n'));
        this.blocks[f] = block;
      }
      if (block.length === 0) continue;
      if (pieces.length > 0) pieces.push(Buffer.from(',\n'));
      pieces.push(block);
    }
    return pieces;
  }

  /**
   * Encode the metadata text's blocks now (else the first commit does): the lines the
   * snapshot was made from are garbage from then on. The daemon does it once the full
   * commit's garbage is collected (daemon/memory.ts), so an idle daemon keeps no lines.
   */
  layBlocks(): void {
    this.laid();
  }

  private laid(): void {
    if (this.pending === undefined) return;
    this.layFences(this.pending);
    this.pending = undefined;
  }

  /** Blocks of BLOCK entries each, from the entries' lines in order; the first fence is '.', before any path. */
  private layFences(lines: readonly string[]): void {
    this.fences = this.order.length === 0 ? ['.'] : this.order.filter((_, i) => i % BLOCK === 0);
    this.fences[0] = '.';
    this.blocks = this.fences.map((_, f) => Buffer.from(lines.slice(f * BLOCK, (f + 1) * BLOCK).map((line) => `    ${line}`).join(',\n')));
  }

  /** The block an entry belongs (or would belong) to: the last fence not after it. */
  private blockOf(rel: string): number {
    let lo = 0;
    let hi = this.fences.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareEntries(this.fences[mid]!, rel) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1; // fences[0] is '.', not after any path
  }

  /** The range of `order` block f holds. */
  private rangeOf(f: number): [number, number] {
    const start = lowerBound(this.order, this.fences[f]!);
    return [start, f + 1 < this.fences.length ? lowerBound(this.order, this.fences[f + 1]!) : this.order.length];
  }

  /** Block f as a Map of its lines (decoded from its bytes the first time), to change. */
  private decoded(f: number): Map<string, string> {
    const block = this.blocks[f]!;
    if (!Buffer.isBuffer(block)) return block;
    const [start, end] = this.rangeOf(f);
    const lines = new Map<string, string>();
    const text = block.length === 0 ? [] : block.toString().split('\n');
    if (text.length !== end - start) throw new Error(`the kept metadata's block at ${this.fences[f]} holds ${text.length} lines for ${end - start} entries`);
    for (let k = 0; k < text.length; k++) lines.set(this.order[start + k]!, text[k]!.slice(4, k + 1 < text.length ? -1 : undefined));
    this.blocks[f] = lines;
    return lines;
  }
}
