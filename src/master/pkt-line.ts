// git's pack protocol (version 0, as `git-upload-pack` speaks it over SSH), the few parts
// pacha's own fetch needs (upload-pack-fetch.ts): pkt-line framing, the ref advertisement,
// the capabilities asked for, the request. Pure: bytes in, values out. What the master
// sends is not trusted: every length, object name and ref name is checked here, so a
// hostile master cannot make the request or a later `update-ref --stdin` say anything else.
// Spec: git's Documentation/gitprotocol-pack.txt and gitprotocol-common.txt.

/** The longest pkt-line git sends or accepts: 65520 bytes, its 4-byte length included. */
export const MAX_PKT_LENGTH = 65520;

export type Pkt = { kind: 'flush' } | { kind: 'data'; payload: Buffer };

/** One pkt-line: the 4 hex digits of its length (themselves included), then the payload. */
export function encodePkt(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const length = body.length + 4;
  if (length > MAX_PKT_LENGTH) throw new Error(`pkt-line of ${length} bytes is longer than git's ${MAX_PKT_LENGTH}`);
  return Buffer.concat([Buffer.from(length.toString(16).padStart(4, '0'), 'ascii'), body]);
}

export const FLUSH_PKT = Buffer.from('0000', 'ascii');

/**
 * A pkt-line's whole length (its 4 bytes included) from those first 4 bytes; 0 for a flush.
 * Throws on a length that is not 4 hex digits or out of range.
 */
export function pktLength(head: Buffer): number {
  const text = head.toString('latin1');
  if (!/^[0-9a-f]{4}$/i.test(text)) throw new Error(`not a pkt-line: its length is ${JSON.stringify(text)}`);
  const length = parseInt(text, 16);
  if (length !== 0 && (length < 4 || length > MAX_PKT_LENGTH)) throw new Error(`not a pkt-line: length ${length}`);
  return length;
}

/**
 * The first pkt-line in `buffer` and how many bytes it took, or undefined when the buffer
 * does not hold a whole one yet. Throws on a length that is not 4 hex digits or out of range.
 */
export function splitPkt(buffer: Buffer): { pkt: Pkt; size: number } | undefined {
  if (buffer.length < 4) return undefined;
  const length = pktLength(buffer.subarray(0, 4));
  if (length === 0) return { pkt: { kind: 'flush' }, size: 4 };
  if (buffer.length < length) return undefined;
  return { pkt: { kind: 'data', payload: buffer.subarray(4, length) }, size: length };
}

/** A data pkt-line's text without its trailing newline. */
export function pktText(payload: Buffer): string {
  const text = payload.toString('utf8');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** An object name as git prints it (SHA-1 or SHA-256, lower-case hex). */
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * A ref name pacha will set locally: under refs/, printable ASCII without space, and none of
 * what git's check-ref-format refuses (`..`, `@{`, a component starting with `.` or ending in
 * `.lock`, `\`, `~^:?*[`). Anything else in an advertisement is a hostile or broken master.
 */
export function isSafeRefName(name: string): boolean {
  if (!/^refs\/[\x21-\x7e]+$/.test(name)) return false;
  if (/\.\.|@\{|[\\~^:?*[]|\/\/|\/$|\.$/.test(name)) return false;
  return name.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'));
}

/** An `ERR <reason>` pkt-line, git's way to refuse at any point of the exchange, as an error; else undefined. */
export function pktRefusal(payload: Buffer): Error | undefined {
  const text = pktText(payload);
  return text.startsWith('ERR ') ? new Error(`the master refused: ${text.slice(4)}`) : undefined;
}

export interface Advertisement {
  /** Ref name -> object, in the order sent (HEAD and peeled `^{}` entries left out). */
  refs: Map<string, string>;
  capabilities: Set<string>;
}

/**
 * The ref advertisement: the data pkt-lines upload-pack sends before its first flush. An
 * empty repository sends one line naming no ref ("capabilities^{}"). An `ERR` line is the
 * master's refusal and is thrown with its words.
 */
export function parseAdvertisement(lines: readonly Buffer[]): Advertisement {
  const refs = new Map<string, string>();
  let capabilities = new Set<string>();
  for (const [index, payload] of lines.entries()) {
    const refused = pktRefusal(payload);
    if (refused) throw refused;
    let text = pktText(payload);
    if (index === 0) {
      const nul = text.indexOf('\0');
      if (nul >= 0) {
        capabilities = new Set(text.slice(nul + 1).split(' ').filter(Boolean));
        text = text.slice(0, nul);
      }
    }
    const space = text.indexOf(' ');
    const id = text.slice(0, space);
    const name = text.slice(space + 1);
    if (space < 0 || !OBJECT_ID.test(id)) throw new Error(`not a ref advertisement line: ${JSON.stringify(text.slice(0, 100))}`);
    if (name === 'capabilities^{}' || name === 'HEAD' || name.endsWith('^{}')) continue;
    if (name.startsWith('shallow ')) continue;
    if (!isSafeRefName(name)) throw new Error(`the master advertised a ref pacha will not set: ${JSON.stringify(name.slice(0, 100))}`);
    refs.set(name, id);
  }
  return { refs, capabilities };
}

/** The side band asked for: git's 64k one where offered, else the small one, else none. */
export function chooseSideBand(capabilities: ReadonlySet<string>): 'side-band-64k' | 'side-band' | undefined {
  if (capabilities.has('side-band-64k')) return 'side-band-64k';
  if (capabilities.has('side-band')) return 'side-band';
  return undefined;
}

export interface FetchRequest {
  wants: readonly string[];
  /** Only the wanted commits themselves (a shallow fetch of depth 1 …); absent: whole history. */
  depth?: number | undefined;
  capabilities: ReadonlySet<string>;
}

/**
 * What the client sends after the advertisement, up to and including its flush: the wants
 * (the first carrying the capabilities asked for) and the depth. Nothing wanted: a flush only,
 * which tells upload-pack the client needs nothing.
 */
export function fetchRequest(request: FetchRequest): Buffer {
  const wants = [...new Set(request.wants)];
  for (const id of wants) if (!OBJECT_ID.test(id)) throw new Error(`not an object name: ${JSON.stringify(id)}`);
  if (wants.length === 0) return FLUSH_PKT;
  const sideBand = chooseSideBand(request.capabilities);
  const deepen = request.depth !== undefined && request.capabilities.has('shallow');
  const asked = [sideBand, request.capabilities.has('ofs-delta') ? 'ofs-delta' : undefined, request.capabilities.has('no-progress') ? 'no-progress' : undefined, deepen ? 'shallow' : undefined, 'agent=pacha'].filter(
    (c): c is string => c !== undefined,
  );
  const lines = wants.map((id, i) => encodePkt(i === 0 ? `want ${id} ${asked.join(' ')}\n` : `want ${id}\n`));
  if (deepen) lines.push(encodePkt(`deepen ${request.depth}\n`));
  return Buffer.concat([...lines, FLUSH_PKT]);
}

/** What the server says to `deepen`, before its flush: the commits the local repository must record as shallow. */
export function parseShallowLines(lines: readonly Buffer[]): string[] {
  const shallow: string[] = [];
  for (const payload of lines) {
    const text = pktText(payload);
    const match = /^(shallow|unshallow) ([0-9a-f]+)$/.exec(text);
    if (!match || !OBJECT_ID.test(match[2]!)) throw new Error(`not a shallow line: ${JSON.stringify(text.slice(0, 100))}`);
    if (match[1] === 'shallow') shallow.push(match[2]!);
  }
  return shallow;
}

/** The side band's channels: 1 the pack, 2 progress, 3 a fatal error. */
export type Band = { band: 'pack'; data: Buffer } | { band: 'progress' } | { band: 'error'; message: string };

export function demuxSideBand(payload: Buffer): Band {
  const channel = payload[0];
  if (channel === 1) return { band: 'pack', data: payload.subarray(1) };
  if (channel === 2) return { band: 'progress' };
  if (channel === 3) return { band: 'error', message: payload.subarray(1).toString('utf8').trim() };
  throw new Error(`not a side-band packet (channel ${channel})`);
}
