// A git delta of an object against one the master already holds (gitformat-pack, "Deltified
// representation"): the sizes of base and result, then instructions that copy ranges of the
// base or insert literal bytes. The daemon's one-edit push sends the metadata of a big tree
// this way: an edit changes one block of its entries, and the pack carries that block and a
// few copy instructions instead of the whole file deflated again (6–7 MB at 50k files).
//
// The texts come in pieces (the snapshot's blocks, store/snapshot-entries.ts); a block the
// edit did not change is the same Buffer in both, so it is matched by identity, never compared.
// Between two matched blocks, the base's and the result's bytes are compared from both ends,
// and what differs is inserted. Pure.

/** Pieces at least this long are matched by identity. */
const ANCHOR_MIN = 1024;

/** The longest copy one instruction names (its size has three bytes). */
const MAX_COPY = 0xff_ffff;

/** The longest insert one instruction carries. */
const MAX_INSERT = 0x7f;

/** Bytes between two anchors are compared only up to this much on either side (else: no delta). */
const MAX_REGION = 1024 * 1024;

/** A size as a delta's header writes it: 7 bits a byte, low bits first, the high bit set on all but the last. Pure. */
export function deltaSize(size: number): Buffer {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`delta size ${size}`);
  const bytes: number[] = [];
  let rest = size;
  do {
    const low = rest % 128;
    rest = Math.floor(rest / 128);
    bytes.push(rest > 0 ? low | 0x80 : low);
  } while (rest > 0);
  return Buffer.from(bytes);
}

function copyInstruction(offset: number, size: number): Buffer {
  const bytes = [0x80];
  for (let i = 0; i < 4; i++) {
    const byte = Math.floor(offset / 2 ** (8 * i)) & 0xff;
    if (byte !== 0) {
      bytes[0]! |= 1 << i;
      bytes.push(byte);
    }
  }
  // A size of exactly 0x10000 has no size byte: git reads none as 0x10000.
  for (let i = 0; i < 3; i++) {
    const byte = (size >> (8 * i)) & 0xff;
    if (byte !== 0) {
      bytes[0]! |= 0x10 << i;
      bytes.push(byte);
    }
  }
  return Buffer.from(bytes);
}

class DeltaWriter {
  readonly parts: Buffer[] = [];
  inserted = 0;
  private copyAt = 0;
  private copySize = 0;

  copy(offset: number, size: number): void {
    if (size === 0) return;
    if (this.copySize > 0 && this.copyAt + this.copySize === offset) {
      this.copySize += size;
      return;
    }
    this.flushCopy();
    this.copyAt = offset;
    this.copySize = size;
  }

  insert(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.flushCopy();
    this.inserted += bytes.length;
    for (let at = 0; at < bytes.length; at += MAX_INSERT) {
      const chunk = bytes.subarray(at, at + MAX_INSERT);
      this.parts.push(Buffer.of(chunk.length), chunk);
    }
  }

  flushCopy(): void {
    for (let at = this.copyAt, left = this.copySize; left > 0; ) {
      const size = Math.min(left, MAX_COPY);
      this.parts.push(copyInstruction(at, size));
      at += size;
      left -= size;
    }
    this.copySize = 0;
  }
}

/** Bytes [start, end) of a text in pieces (`offsets[i]`: where piece i starts), copied into one buffer. */
function bytesOf(pieces: readonly Buffer[], offsets: readonly number[], start: number, end: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < pieces.length && offsets[i]! < end; i++) {
    const from = Math.max(start - offsets[i]!, 0);
    const to = Math.min(end - offsets[i]!, pieces[i]!.length);
    if (to > from) out.push(pieces[i]!.subarray(from, to));
  }
  return Buffer.concat(out);
}

function commonPrefix(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function commonSuffix(a: Buffer, b: Buffer, limit: number): number {
  let i = 0;
  while (i < limit && a[a.length - 1 - i] === b[b.length - 1 - i]) i++;
  return i;
}

/**
 * The delta that makes `target` from `base` (both in pieces), or undefined when it would
 * insert more than `maxInsert` bytes (the whole object is the better thing to send then).
 * Applying it to base's bytes gives target's bytes exactly.
 */
export function deltaAgainst(base: readonly Buffer[], target: readonly Buffer[], maxInsert: number): Buffer | undefined {
  const baseOffsets: number[] = [];
  const anchors = new Map<Buffer, number>();
  let baseLength = 0;
  for (const piece of base) {
    baseOffsets.push(baseLength);
    if (piece.length >= ANCHOR_MIN && !anchors.has(piece)) anchors.set(piece, baseLength);
    baseLength += piece.length;
  }
  const targetLength = target.reduce((n, p) => n + p.length, 0);
  const delta = new DeltaWriter();
  // A run of target pieces matched by no anchor, against the base's bytes between the anchors around it.
  let gap: Buffer[] = [];
  let gapLength = 0;
  let baseCursor = 0;
  const closeGap = (baseEnd: number): boolean => {
    const oldLength = baseEnd - baseCursor;
    if (gapLength === 0 && oldLength === 0) return true;
    // What cannot come under the limit, or is too long to read into one buffer, is no delta.
    if (gapLength - oldLength > maxInsert || gapLength > MAX_REGION || oldLength > MAX_REGION) return false;
    const now = Buffer.concat(gap, gapLength);
    const old = bytesOf(base, baseOffsets, baseCursor, baseEnd);
    const prefix = commonPrefix(now, old);
    const suffix = commonSuffix(now, old, Math.min(now.length, old.length) - prefix);
    delta.copy(baseCursor, prefix);
    delta.insert(now.subarray(prefix, now.length - suffix));
    delta.copy(baseEnd - suffix, suffix);
    gap = [];
    gapLength = 0;
    return delta.inserted <= maxInsert;
  };
  for (const piece of target) {
    const at = piece.length >= ANCHOR_MIN ? anchors.get(piece) : undefined;
    if (at !== undefined && at >= baseCursor) {
      if (!closeGap(at)) return undefined;
      delta.copy(at, piece.length);
      baseCursor = at + piece.length;
    } else {
      gap.push(piece);
      gapLength += piece.length;
    }
  }
  if (!closeGap(baseLength)) return undefined;
  delta.flushCopy();
  return Buffer.concat([deltaSize(baseLength), deltaSize(targetLength), ...delta.parts]);
}
