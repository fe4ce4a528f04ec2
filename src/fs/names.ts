// File names are bytes; JSON and JavaScript strings are Unicode. A name that is valid UTF-8
// is kept as itself. Each byte that is not part of valid UTF-8 becomes the lone surrogate
// U+DC80+byte (Python's "surrogateescape"): valid UTF-8 never decodes to a surrogate, so
// the mapping is lossless both ways, JSON.stringify writes it as "\udcff" and JSON.parse
// reads it back. Every filesystem call on such a name must pass the bytes (fsPath).
// Pure.

const fatal = new TextDecoder('utf-8', { fatal: true });
const ESCAPE_LOW = 0xdc80;
const ESCAPE_HIGH = 0xdcff;

/** Length of the valid UTF-8 sequence starting at `i`, or 0 (Unicode table 3-7). */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const b = bytes[i + k];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xe1 && b0 <= 0xec) || b0 === 0xee || b0 === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0; // no encoded surrogates
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** The name (or path, or any byte string) as pacha's strings carry it. */
export function decodeName(bytes: Uint8Array): string {
  try {
    return fatal.decode(bytes);
  } catch {
    let out = '';
    let start = 0;
    let i = 0;
    while (i < bytes.length) {
      const n = sequenceLength(bytes, i);
      if (n > 0) {
        i += n;
        continue;
      }
      out += fatal.decode(bytes.subarray(start, i)) + String.fromCharCode(ESCAPE_LOW + bytes[i]! - 0x80);
      i += 1;
      start = i;
    }
    return out + fatal.decode(bytes.subarray(start));
  }
}

/** Any surrogate code unit (an escape, or a lone surrogate). */
const SURROGATE = /[\ud800-\udfff]/;

/**
 * Whether a name holds a surrogate code unit. A regular expression (V8 compiles it to native
 * code) rather than a loop over the characters: it runs for every path a rebuild touches,
 * several times, in a process without the optimizing compiler (rebuild/v8-settings.ts).
 */
function hasEscape(name: string): boolean {
  return SURROGATE.test(name);
}

/** The bytes of a name decodeName produced. Throws on a string no byte string decodes to. */
export function encodeName(name: string): Buffer {
  if (!hasEscape(name)) return Buffer.from(name, 'utf8');
  const parts: Buffer[] = [];
  for (const char of name) {
    const code = char.codePointAt(0)!;
    if (code >= ESCAPE_LOW && code <= ESCAPE_HIGH) parts.push(Buffer.of(code - ESCAPE_LOW + 0x80));
    else if (code >= 0xd800 && code <= 0xdfff) throw new RangeError(`not a file name: lone surrogate U+${code.toString(16)}`);
    else parts.push(Buffer.from(char, 'utf8'));
  }
  const bytes = Buffer.concat(parts);
  // Escapes that spell valid UTF-8 ("\udcc3\udca9" is "é"): two strings for one name.
  if (decodeName(bytes) !== name) throw new RangeError('not a file name: escaped bytes that form valid UTF-8');
  return bytes;
}

/** Whether a string is exactly what decodeName gives for some byte string. */
export function isCanonicalName(name: string): boolean {
  try {
    encodeName(name);
    return true;
  } catch {
    return false;
  }
}

/** What to hand node:fs: the string itself when it is plain UTF-8, else its bytes. */
export function fsPath(name: string): string | Buffer {
  return hasEscape(name) ? encodeName(name) : name;
}

/** A NUL-separated list (git -z output) as names. */
export function splitNul(bytes: Buffer): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = bytes.indexOf(0); i !== -1; i = bytes.indexOf(0, start)) {
    if (i > start) out.push(decodeName(bytes.subarray(start, i)));
    start = i + 1;
  }
  if (start < bytes.length) out.push(decodeName(bytes.subarray(start)));
  return out;
}

/** Names as git's -z input. */
export function joinNul(names: readonly string[]): Buffer {
  return Buffer.concat(names.flatMap((n) => [encodeName(n), Buffer.of(0)]));
}
