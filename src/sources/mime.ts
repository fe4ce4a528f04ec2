// A small MIME reader for cloud-init user data (RFC 2045/2046), as `cloud-init devel
// make-mime` and cloud providers build it: headers, multipart bodies (nested), and the
// base64 / quoted-printable / 7bit / 8bit / binary transfer encodings. Pure: bytes in,
// leaf parts out. It reads only what user data uses; it is not a mail parser.
//
// Bytes are handled as latin1 strings (one char per byte) so a binary or gzip part survives
// splitting unchanged; each leaf body goes back to a Buffer.

/** A leaf part of a message, its transfer encoding already undone. */
export interface MimePart {
  /** Lower-cased `type/subtype`; `text/plain` when the part has no Content-Type. */
  contentType: string;
  /** The filename from Content-Disposition, if any: names the part in messages. */
  filename: string | undefined;
  body: Buffer;
}

/** The message is not MIME that can be read; the caller adds which file it was. */
export class MimeFormatError extends Error {
  override name = 'MimeFormatError';
}

export interface HeaderValue {
  value: string;
  params: Record<string, string>;
}

// Deeper nesting than this is no user data anyone writes: refuse rather than recurse on.
const MAX_DEPTH = 16;

/** Whether the data looks like a MIME message (cloud-init's test: a MIME-Version header near the start). */
export function looksLikeMime(data: Buffer): boolean {
  const head = data.subarray(0, 4096).toString('latin1');
  if (head.startsWith('#')) return false; // `#cloud-config`, `#!` …: plain user data
  return /^mime-version\s*:/im.test(head);
}

/** Every leaf part of a MIME message, depth first, in document order. */
export function parseMime(data: Buffer): MimePart[] {
  return leaves(data.toString('latin1'), 0);
}

function leaves(entity: string, depth: number): MimePart[] {
  if (depth > MAX_DEPTH) throw new MimeFormatError(`multipart nesting deeper than ${MAX_DEPTH}`);
  const { headers, body } = splitEntity(entity);
  const type = parseHeaderValue(headers.get('content-type') ?? 'text/plain');
  const contentType = type.value.toLowerCase() || 'text/plain';
  if (contentType.startsWith('multipart/')) {
    const boundary = type.params.boundary;
    if (!boundary) throw new MimeFormatError(`a ${contentType} part has no boundary parameter`);
    return splitMultipart(body, boundary).flatMap((part) => leaves(part, depth + 1));
  }
  const disposition = parseHeaderValue(headers.get('content-disposition') ?? '');
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  return [{ contentType, filename: disposition.params.filename, body: decodeBody(body, encoding) }];
}

/** Split an entity into its headers (names lower-cased, folded lines joined) and its body. */
export function splitEntity(entity: string): { headers: Map<string, string>; body: string } {
  const headers = new Map<string, string>();
  let position = 0;
  let current: string | undefined;
  for (;;) {
    const end = entity.indexOf('\n', position);
    const rawLine = end === -1 ? entity.slice(position) : entity.slice(position, end);
    const next = end === -1 ? entity.length : end + 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '') {
      position = next;
      break;
    }
    if (/^[ \t]/.test(line) && current !== undefined) {
      headers.set(current, `${headers.get(current)} ${line.trim()}`);
    } else {
      const colon = line.indexOf(':');
      // A line that is not a header ends the header block: what follows is the body
      // (lenient, as Python's email package is, which cloud-init uses).
      if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) break;
      current = line.slice(0, colon).toLowerCase();
      // The first occurrence of a header wins, as in Python's email package.
      if (!headers.has(current)) headers.set(current, line.slice(colon + 1).trim());
      else current = undefined;
    }
    position = next;
    if (end === -1) break;
  }
  return { headers, body: entity.slice(position) };
}

/** `text/plain; charset="utf-8"; name=a` → value and lower-cased parameter names. */
export function parseHeaderValue(header: string): HeaderValue {
  const params: Record<string, string> = {};
  const semicolon = header.indexOf(';');
  const value = (semicolon === -1 ? header : header.slice(0, semicolon)).trim();
  const rest = semicolon === -1 ? '' : header.slice(semicolon + 1);
  const param = /\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))\s*;?/g;
  for (let match = param.exec(rest); match !== null; match = param.exec(rest)) {
    const name = match[1]!.toLowerCase();
    const quoted = match[2];
    params[name] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (match[3] ?? '').trim();
  }
  return { value, params };
}

/**
 * The body parts between `--boundary` lines; preamble and epilogue dropped. The line break
 * before a delimiter belongs to the delimiter (RFC 2046 5.1.1). A missing close delimiter
 * ends the last part at the end of the data, as Python's email package does.
 */
export function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const parts: string[] = [];
  let partStart: number | undefined;
  let position = 0;
  while (position <= body.length) {
    const end = body.indexOf('\n', position);
    const lineEnd = end === -1 ? body.length : end;
    const line = body.slice(position, lineEnd).replace(/\r$/, '');
    if (line.startsWith(delimiter)) {
      const tail = line.slice(delimiter.length);
      const closing = tail.startsWith('--');
      // Only transport padding (spaces, tabs) may follow the delimiter on its line.
      if (/^[ \t]*$/.test(closing ? tail.slice(2) : tail)) {
        if (partStart !== undefined) parts.push(withoutFinalBreak(body.slice(partStart, position)));
        if (closing) return parts;
        partStart = end === -1 ? body.length : end + 1;
      }
    }
    if (end === -1) break;
    position = end + 1;
  }
  if (partStart !== undefined) parts.push(body.slice(partStart));
  if (parts.length === 0) throw new MimeFormatError(`no part starts with the boundary "${boundary}"`);
  return parts;
}

function withoutFinalBreak(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

export function decodeBody(body: string, encoding: string): Buffer {
  switch (encoding) {
    case 'base64':
      return decodeBase64(body);
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    case '7bit':
    case '8bit':
    case 'binary':
    case '':
      return Buffer.from(body, 'latin1');
    default:
      throw new MimeFormatError(`unknown Content-Transfer-Encoding "${encoding}"`);
  }
}

function decodeBase64(body: string): Buffer {
  const compact = body.replace(/[\s]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw new MimeFormatError('a base64 part holds characters that are not base64');
  return Buffer.from(compact, 'base64');
}

/** RFC 2045 6.7: `=XX` is a byte, `=` at the end of a line is a soft break, trailing blanks are dropped. */
export function decodeQuotedPrintable(body: string): Buffer {
  const bytes: number[] = [];
  const lines = body.split('\n');
  lines.forEach((raw, index) => {
    let line = raw.replace(/\r$/, '').replace(/[ \t]+$/, '');
    let soft = false;
    if (line.endsWith('=')) {
      soft = true;
      line = line.slice(0, -1);
    }
    for (let i = 0; i < line.length; i++) {
      const char = line[i]!;
      const hex = line.slice(i + 1, i + 3);
      if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(char.charCodeAt(0) & 0xff); // a stray '=' is kept, as decoders commonly do
      }
    }
    if (!soft && index < lines.length - 1) bytes.push(0x0a);
  });
  return Buffer.from(bytes);
}
