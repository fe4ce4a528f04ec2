// The pkt-lines of a stream (the master's git-upload-pack over an exec channel), one at a
// time. Chunks are queued as they arrive ('data' events) and a pkt-line is handed out as
// pieces of them, never copied (nextPieces): a pack of hundreds of MiB goes through here, and
// re-concatenating the buffered bytes on every chunk (or letting the stream join its chunks on
// read) cost more of a rebuild's main thread than decrypting them. The stream is
// paused while HIGH_WATER bytes wait, so a slow consumer holds the master back (SSH window)
// rather than filling memory.
import type { Readable } from 'node:stream';
import { pktLength, pktRefusal, type Pkt } from './pkt-line.js';

/** Bytes queued before the stream is paused. */
const HIGH_WATER = 1024 * 1024;

/** The stream ended before the protocol did; what was going on then. */
export class EndedEarly extends Error {}

export class PktReader {
  private readonly chunks: Buffer[] = [];
  /** Bytes of chunks[0] already taken. */
  private offset = 0;
  /** Bytes queued and not yet taken. */
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly stream: Readable,
    /** Silence longer than this while a pkt-line is awaited is an error ("did not answer within"). */
    private readonly silenceMs: number,
  ) {
    stream.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.queued += chunk.length;
      if (this.queued >= HIGH_WATER) stream.pause();
      this.notify();
    });
    const end = (): void => {
      this.ended = true;
      this.notify();
    };
    stream.once('end', end);
    stream.once('close', end);
    stream.once('error', (error: Error) => {
      this.failure ??= error;
      end();
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Wait until more bytes came, or the stream ended (false). */
  private async more(): Promise<boolean> {
    if (this.failure) throw this.failure;
    if (this.ended) return false;
    this.stream.resume();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        reject(new Error(`did not answer within ${this.silenceMs / 1000} s`));
      }, this.silenceMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    if (this.failure) throw this.failure;
    return true;
  }

  /** Wait until `n` bytes are queued; false when the stream ended before. */
  private async have(n: number): Promise<boolean> {
    while (this.queued < n) if (!(await this.more())) return false;
    return true;
  }

  /** The first 4 queued bytes, left queued. */
  private head(): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.offset >= 4) return first.subarray(this.offset, this.offset + 4);
    return Buffer.concat(this.take(4, false), 4);
  }

  /** The next `n` queued bytes as pieces of the chunks (no copy); `consume`: taken off the queue. */
  private take(n: number, consume = true): Buffer[] {
    const pieces: Buffer[] = [];
    let index = 0;
    let offset = this.offset;
    for (let left = n; left > 0; ) {
      const chunk = this.chunks[index]!;
      const piece = Math.min(chunk.length - offset, left);
      pieces.push(chunk.subarray(offset, offset + piece));
      left -= piece;
      offset += piece;
      if (offset === chunk.length) {
        index++;
        offset = 0;
      }
    }
    if (!consume) return pieces;
    this.chunks.splice(0, index);
    this.offset = offset;
    this.queued -= n;
    if (this.queued < HIGH_WATER / 2 && this.stream.isPaused() && !this.ended) this.stream.resume();
    return pieces;
  }

  /**
   * The next pkt-line with its payload in pieces, as the bytes arrived (no copy: a pack's
   * pkt-lines go on to index-pack as they are); undefined at the stream's end.
   */
  async nextPieces(): Promise<{ kind: 'flush' } | { kind: 'data'; pieces: Buffer[] } | undefined> {
    if (!(await this.have(4))) {
      if (this.queued > 0) throw new EndedEarly('in the middle of a pkt-line');
      return undefined;
    }
    const length = pktLength(this.head());
    if (length === 0) {
      this.take(4);
      return { kind: 'flush' };
    }
    if (!(await this.have(length))) throw new EndedEarly('in the middle of a pkt-line');
    this.take(4);
    return { kind: 'data', pieces: this.take(length - 4) };
  }

  /** The next pkt-line; undefined at the stream's end. Throws on bytes that are not one. */
  async next(): Promise<Pkt | undefined> {
    const pkt = await this.nextPieces();
    if (pkt?.kind !== 'data') return pkt;
    return { kind: 'data', payload: pkt.pieces.length === 1 ? pkt.pieces[0]! : Buffer.concat(pkt.pieces) };
  }

  /** The data pkt-lines up to the next flush; an ERR line is the master's refusal, wherever it comes. */
  async untilFlush(what: string): Promise<Buffer[]> {
    const lines: Buffer[] = [];
    for (;;) {
      const pkt = await this.next();
      if (!pkt) throw new EndedEarly(`during ${what}`);
      if (pkt.kind === 'flush') return lines;
      const refused = pktRefusal(pkt.payload);
      if (refused) throw refused;
      lines.push(pkt.payload);
    }
  }
}
