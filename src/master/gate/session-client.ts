// The daemon's side of `pacha-gate session` (gate/session.ts): one exec channel kept open
// through the gate, one `apply-update` line and its pack per push, one JSON answer each.
// A closed channel, a refusal, a timeout: the request fails and the session is done (the
// caller pushes with git; the next request opens a new session).
import type { Client, ClientChannel } from 'ssh2';
import { gateCommand, sessionUpdateLine, type SessionAnswer } from './protocol.js';

export class GateSession {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private stdout = '';
  private waiting: { resolve: (answer: SessionAnswer) => void; reject: (error: Error) => void } | undefined;

  private constructor(private readonly channel: ClientChannel) {
    channel.on('data', (data: Buffer) => {
      this.stdout += data.toString();
      this.answer();
    });
    channel.stderr.on('data', () => undefined);
    channel.stderr.on('error', () => undefined);
    channel.on('error', (error: Error) => this.end(error));
    channel.on('close', () => this.end(new Error('the gate session closed')));
  }

  static open(client: Client): Promise<GateSession> {
    return new Promise((resolve, reject) => {
      client.exec(gateCommand('session'), (error, channel) => (error ? reject(error) : resolve(new GateSession(channel))));
    });
  }

  get usable(): boolean {
    return !this.closed;
  }

  apply(name: string, from: string, to: string, pack: Buffer, timeoutMs: number): Promise<SessionAnswer> {
    const next = this.queue.then(() => this.applyNow(name, from, to, pack, timeoutMs));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private applyNow(name: string, from: string, to: string, pack: Buffer, timeoutMs: number): Promise<SessionAnswer> {
    if (this.closed) return Promise.reject(new Error('the gate session closed'));
    return new Promise<SessionAnswer>((resolve, reject) => {
      const timer = setTimeout(() => this.end(new Error(`the gate did not answer within ${timeoutMs} ms`)), timeoutMs);
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
      this.channel.write(sessionUpdateLine(name, from, to, pack.length));
      this.channel.write(pack);
    });
  }

  private answer(): void {
    const end = this.stdout.indexOf('\n');
    if (end < 0 || !this.waiting) return;
    const line = this.stdout.slice(0, end);
    this.stdout = this.stdout.slice(end + 1);
    const waiting = this.waiting;
    this.waiting = undefined;
    try {
      const answer = JSON.parse(line) as SessionAnswer;
      if (typeof answer.status !== 'number') throw new Error('no status');
      waiting.resolve(answer);
    } catch {
      this.end(new Error('the gate answered something else than a session answer'));
      waiting.reject(new Error('the gate answered something else than a session answer'));
    }
  }

  private end(error: Error): void {
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
    this.end(new Error('the gate session was closed'));
  }
}
