// The one order of names: their bytes (what strcmp gives in the C locale), so metadata,
// hooks and listings sort the same on every host whatever its locale. Pure.
import { encodeName } from './names.js';

/** A name's bytes (names.ts); a string no file name decodes to is ordered by its UTF-8. */
function bytesOf(name: string): Buffer {
  try {
    return encodeName(name);
  } catch {
    return Buffer.from(name, 'utf8');
  }
}

export function byteOrder(a: string, b: string): number {
  return Buffer.compare(bytesOf(a), bytesOf(b));
}
