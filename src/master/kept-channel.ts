// One SSH exec channel kept open for many requests, one at a time (the daemon's kept session
// on the master: shell-session.ts for a plain shell account, gate/session-client.ts through
// the gate). Requests queue; each waits for its answer or its timeout; a closed channel or a
// timeout fails the request in flight and ends the channel for good (`usable` turns false:
// the owner opens a new one).
import type { ClientChannel } from 'ssh2';

export abstract class KeptChannel<Answer> {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private waiting: { resolve: (answer: Answer) => void; reject: (error: Error) => void } | undefined;

  protected constructor(
    protected readonly channel: ClientChannel,
    private readonly what: string,
  ) {
    channel.stderr.on('error', () => undefined);
    channel.on('error', (error: Error) => this.end(error));
    channel.on('close', () => this.end(new Error(`${this.what} closed`)));
  }

  get usable(): boolean {
    return !this.closed;
  }

  /** Queue a request: `send` writes it; the subclass answers it with settle(). */
  protected request(send: () => void, timeoutMs: number): Promise<Answer> {
    const next = this.queue.then(
      () =>
        new Promise<Answer>((resolve, reject) => {
          if (this.closed) return reject(new Error(`${this.what} closed`));
          const timer = setTimeout(() => this.end(new Error(`${this.what} did not answer within ${timeoutMs} ms`)), timeoutMs);
          this.waiting = {
            resolve: (answer) => {
              clearTimeout(timer);
              resolve(answer);
            },
            reject: (error) => {
              clearTimeout(timer);
              reject(error);
            },
          };
          send();
        }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Whether a request is waiting for its answer. */
  protected get pending(): boolean {
    return this.waiting !== undefined;
  }

  /** The answer to the request in flight. */
  protected settle(answer: Answer): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve(answer);
  }

  /** Fail the request in flight and end the channel for good. */
  protected end(error: Error): void {
    if (!this.closed) {
      this.closed = true;
      this.channel.end();
      this.channel.destroy();
    }
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }

  close(): void {
    this.end(new Error(`${this.what} was closed`));
  }
}
