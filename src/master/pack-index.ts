// A pack's index (`objects/pack/pack-*.idx`, version 2), read for one question: does this
// pack hold an object? A fetch uses it to skip git's connectivity walk when the pack alone
// makes the copied refs whole (upload-pack-fetch.ts). Pure: bytes in, answer out. Anything
// that is not a well-formed version 2 index answers "not held", so the caller falls back to
// the full check. Format: git's Documentation/gitformat-pack.txt.

const MAGIC = Buffer.from([0xff, 0x74, 0x4f, 0x63]); // "\377tOc"
const HEADER = 8;
const FANOUT = 256 * 4;

/** Whether the version 2 index `idx` lists `oid` (40 or 64 lower-case hex digits). */
export function packIndexHolds(idx: Buffer, oid: string): boolean {
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(oid)) return false;
  if (idx.length < HEADER + FANOUT || !idx.subarray(0, 4).equals(MAGIC) || idx.readUInt32BE(4) !== 2) return false;
  const name = Buffer.from(oid, 'hex');
  const count = idx.readUInt32BE(HEADER + 255 * 4);
  if (idx.length < HEADER + FANOUT + count * name.length) return false;
  // The fan-out table: how many names start with a byte up to each value; the names are sorted.
  const first = name[0]!;
  let low = first === 0 ? 0 : idx.readUInt32BE(HEADER + (first - 1) * 4);
  let high = idx.readUInt32BE(HEADER + first * 4);
  if (low > high || high > count) return false;
  const names = HEADER + FANOUT;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const at = names + middle * name.length;
    const order = idx.compare(name, 0, name.length, at, at + name.length); // the listed name against `name`
    if (order === 0) return true;
    if (order < 0) low = middle + 1;
    else high = middle;
  }
  return false;
}
