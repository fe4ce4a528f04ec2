// The daemon's side of `pacha-gate session` (gate/session.ts): one exec channel kept open
// through the gate, one `apply-update` line and its pack per push, one JSON answer each.
// A closed channel, a refusal, a timeout: the request fails and the session is done (the
// caller pushes with git; the next request opens a new session).
import type { Client, ClientChannel } from 'ssh2';
import { KeptChannel } from '../kept-channel.js';
import { gateCommand, sessionUpdateLine, type SessionAnswer } from './protocol.js';

export class GateSession extends KeptChannel<SessionAnswer> {
  private stdout = '';

  private constructor(channel: ClientChannel) {
    super(channel, 'the gate session');
    channel.on('data', (data: Buffer) => {
      this.stdout += data.toString();
      this.answer();
    });
    channel.stderr.on('data', () => undefined);
  }

  static open(client: Client): Promise<GateSession> {
    return new Promise((resolve, reject) => {
      client.exec(gateCommand('session'), (error, channel) => (error ? reject(error) : resolve(new GateSession(channel))));
    });
  }

  apply(name: string, from: string, to: string, pack: Buffer, timeoutMs: number): Promise<SessionAnswer> {
    return this.request(() => {
      this.channel.write(sessionUpdateLine(name, from, to, pack.length));
      this.channel.write(pack);
    }, timeoutMs);
  }

  private answer(): void {
    const end = this.stdout.indexOf('\n');
    if (end < 0 || !this.pending) return;
    const line = this.stdout.slice(0, end);
    this.stdout = this.stdout.slice(end + 1);
    let answer: SessionAnswer | undefined;
    try {
      const parsed = JSON.parse(line) as SessionAnswer;
      if (typeof parsed.status === 'number') answer = parsed;
    } catch {
      // not an answer
    }
    if (answer) this.settle(answer);
    else this.end(new Error('the gate answered something else than a session answer'));
  }
}
