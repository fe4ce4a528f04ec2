// A git pack (version 2) of objects pacha wrote itself. The
// daemon's live commit knows every object one edit adds (live.ts); when the master already
// holds the commit before it, these are exactly what the master lacks, so the push needs no
// `git pack-objects` (a process, which re-reads and re-deflates each object, the metadata of
// a 50k-file tree included). The format is git's (Documentation/gitformat-pack.txt): "PACK",
// version 2, the object count, then per object a type-and-size header and its zlib stream,
// then the SHA-1 of all that. The master's `git unpack-objects --strict` checks every object
// and link, so a pack missing one is refused there and the push goes the usual way.
// No deltas: what one edit writes is small (the metadata is in shards, metadata-files.ts).
import { createHash } from 'node:crypto';
import { deflatePieces, objectId, type ObjectType } from './objects.js';

export interface PackObject {
  type: ObjectType;
  /** The object's content (without git's `<type> <size>\0` header), whole or in pieces. */
  content: Buffer | readonly Buffer[];
  /** Its id, when the caller has it (else it is computed here). */
  id?: string;
}

const TYPE_CODE: Readonly<Record<ObjectType, number>> = { commit: 1, tree: 2, blob: 3 };

const piecesOf = (content: Buffer | readonly Buffer[]): readonly Buffer[] => (Buffer.isBuffer(content) ? [content] : content);

/** An object's header in a pack: type in bits 4-6 of the first byte, the size in 4 + 7n bits, little end first. Pure. */
export function packEntryHeader(type: ObjectType, size: number): Buffer {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`pack entry size ${size}`);
  const bytes: number[] = [];
  let byte = (TYPE_CODE[type] << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(byte);
  return Buffer.from(bytes);
}

/**
 * The pack of `given` (in that order, each object once), or undefined once its size would pass `limit`.
 * Objects are deflated at zlib level 1 on the thread pool, all at once.
 */
export async function packFile(given: readonly PackObject[], limit = Number.POSITIVE_INFINITY): Promise<Buffer | undefined> {
  // An object twice in one pack is refused by git (index-pack: "appears twice in the pack").
  const seen = new Set<string>();
  const objects = given.flatMap((o) => {
    const id = o.id ?? objectId(o.type, o.content);
    if (seen.has(id)) return [];
    seen.add(id);
    return [{ type: o.type, pieces: piecesOf(o.content) }];
  });
  const entries = objects.map((o) => ({ ...o, size: o.pieces.reduce((n, p) => n + p.length, 0) }));
  // A deflated object is never much smaller than a thousandth of its size: refuse early what cannot fit.
  if (entries.reduce((n, e) => n + e.size, 0) / 1032 > limit) return undefined;
  const head = Buffer.alloc(12);
  head.write('PACK', 0, 'latin1');
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(objects.length, 8);
  const parts: Buffer[] = [head];
  const deflated = await Promise.all(entries.map((e) => deflatePieces(e.pieces)));
  let size = head.length + 20;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const header = packEntryHeader(entry.type, entry.size);
    size += header.length + deflated[i]!.length;
    if (size > limit) return undefined;
    parts.push(header, deflated[i]!);
  }
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  parts.push(hash.digest());
  return Buffer.concat(parts);
}
