// Turns a child's output chunks into lines. Chunks split lines (and UTF-8 characters)
// anywhere, so both are reassembled here. A hook that prints megabytes without a newline
// must not grow one string without bound: an overlong line is cut into pieces.

import { StringDecoder } from 'node:string_decoder';

export const MAX_LINE_LENGTH = 16 * 1024;

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly maxLength = MAX_LINE_LENGTH) {}

  /** The complete lines this chunk finishes (without "\n" or a trailing "\r"). */
  push(chunk: Buffer | string): string[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const lines: string[] = [];
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) !== -1) {
      lines.push(...this.cut(stripCR(this.pending.slice(0, newline))));
      this.pending = this.pending.slice(newline + 1);
    }
    // No newline yet: keep the tail unless it is already too long to be kept whole.
    while (this.pending.length > this.maxLength) {
      lines.push(this.pending.slice(0, this.maxLength));
      this.pending = this.pending.slice(this.maxLength);
    }
    return lines;
  }

  /** The last line when the output did not end with a newline. */
  end(): string[] {
    const rest = stripCR(this.pending + this.decoder.end());
    this.pending = '';
    return rest === '' ? [] : this.cut(rest);
  }

  private cut(line: string): string[] {
    if (line.length <= this.maxLength) return [line];
    const pieces: string[] = [];
    for (let i = 0; i < line.length; i += this.maxLength) pieces.push(line.slice(i, i + this.maxLength));
    return pieces;
  }
}

function stripCR(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
