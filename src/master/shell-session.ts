// One `sh` kept open on a master reached as a plain shell account (an SSH exec channel on the
// connection the master already holds): scripts are written to its stdin one at a time and
// each answers with one line on stdout, `<nonce> <status>`, when it is done. A script runs
// in a subshell with its output on stderr (fast-update.ts), so nothing it prints can forge
// that line. The daemon's pushes go through it without starting sshd's session, a login
// shell or receive-pack for each one. A closed channel, a timeout: the request fails and the
// session is done (the caller pushes the usual way; the next request opens a new session).
import { randomBytes } from 'node:crypto';
import type { Client, ClientChannel } from 'ssh2';

export interface SessionResult {
  status: number;
  stderr: string;
}

export class ShellSession {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly nonce = randomBytes(12).toString('hex');
  private stdout = '';
  private stderr = '';
  private waiting: { resolve: (status: number) => void; reject: (error: Error) => void } | undefined;

  private constructor(private readonly channel: ClientChannel) {
    channel.on('data', (data: Buffer) => {
      this.stdout += data.toString('latin1');
      this.answer();
    });
    channel.stderr.on('data', (data: Buffer) => {
      // Kept per script, bounded: only its last words matter for a message.
      this.stderr = (this.stderr + data.toString()).slice(-8192);
    });
    channel.stderr.on('error', () => undefined);
    channel.on('error', (error: Error) => this.end(error));
    channel.on('close', () => this.end(new Error('the shell session on the master closed')));
  }

  /** `umask 077; exec sh` on the account's login shell: one process for the session's whole life. */
  static open(client: Client): Promise<ShellSession> {
    return new Promise((resolve, reject) => {
      client.exec('umask 077 && exec sh', (error, channel) => (error ? reject(error) : resolve(new ShellSession(channel))));
    });
  }

  get usable(): boolean {
    return !this.closed;
  }

  /** Run one script (after the ones before it); its exit status and what it said on stderr. */
  run(script: string, timeoutMs: number): Promise<SessionResult> {
    const next = this.queue.then(() => this.runNow(script, timeoutMs));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private runNow(script: string, timeoutMs: number): Promise<SessionResult> {
    if (this.closed) return Promise.reject(new Error('the shell session on the master closed'));
    this.stderr = '';
    return new Promise<SessionResult>((resolve, reject) => {
      const timer = setTimeout(() => this.end(new Error(`the master did not answer within ${timeoutMs} ms`)), timeoutMs);
      this.waiting = {
        resolve: (status) => {
          clearTimeout(timer);
          resolve({ status, stderr: this.stderr });
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.channel.write(`${script}\nprintf '%s %s\\n' ${this.nonce} "$?"\n`);
    });
  }

  private answer(): void {
    const match = new RegExp(`(?:^|\\n)${this.nonce} (\\d+)\\n`).exec(this.stdout);
    if (!match || !this.waiting) return;
    this.stdout = this.stdout.slice(match.index + match[0].length);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting.resolve(Number(match[1]));
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
    this.end(new Error('the shell session was closed'));
  }
}
