// One `sh` kept open on a master reached as a plain shell account (an SSH exec channel on the
// connection the master already holds): scripts are written to its stdin one at a time and
// each answers with one line on stdout, `<nonce> <status>`, when it is done. A script runs
// in a subshell with its output on stderr (fast-update.ts), so nothing it prints can forge
// that line. The daemon's pushes go through it without starting sshd's session, a login
// shell or receive-pack for each one. A closed channel, a timeout: the request fails and the
// session is done (the caller pushes the usual way; the next request opens a new session).
import { randomBytes } from 'node:crypto';
import type { Client, ClientChannel } from 'ssh2';
import { KeptChannel } from './kept-channel.js';

export interface SessionResult {
  status: number;
  stderr: string;
}

export class ShellSession extends KeptChannel<number> {
  private readonly nonce = randomBytes(12).toString('hex');
  private stdout = '';
  private stderr = '';

  private constructor(channel: ClientChannel) {
    super(channel, 'the shell session on the master');
    channel.on('data', (data: Buffer) => {
      this.stdout += data.toString('latin1');
      this.answer();
    });
    channel.stderr.on('data', (data: Buffer) => {
      // Kept per script, bounded: only its last words matter for a message.
      this.stderr = (this.stderr + data.toString()).slice(-8192);
    });
  }

  /** `umask 077; exec sh` on the account's login shell: one process for the session's whole life. */
  static open(client: Client): Promise<ShellSession> {
    return new Promise((resolve, reject) => {
      client.exec('umask 077 && exec sh', (error, channel) => (error ? reject(error) : resolve(new ShellSession(channel))));
    });
  }

  /** Run one script (after the ones before it); its exit status and what it said on stderr. */
  async run(script: string, timeoutMs: number): Promise<SessionResult> {
    const status = await this.request(() => {
      this.stderr = '';
      this.channel.write(`${script}\nprintf '%s %s\\n' ${this.nonce} "$?"\n`);
    }, timeoutMs);
    return { status, stderr: this.stderr };
  }

  private answer(): void {
    const match = new RegExp(`(?:^|\\n)${this.nonce} (\\d+)\\n`).exec(this.stdout);
    if (!match || !this.pending) return;
    this.stdout = this.stdout.slice(match.index + match[0].length);
    this.settle(Number(match[1]));
  }
}
