// The extended attributes of a few paths, for the daemon's commit of one edit, read by getfattr
// started from one `sh` the reader keeps, not from node: node's spawn blocks its event loop
// until the child has exec'd (under load, tens of ms per commit), a small shell's fork does
// not. The paths reach getfattr as their bytes, single-quoted in the script (names.ts's
// escapes included, though the live commit leaves names that are not UTF-8 to a full one).
//
// Per request the shell runs getfattr, then prints a marker with its exit status on stdout
// and a marker on stderr; the markers carry a random nonce the paths never see, so no file
// name can end a reply early. Requests go one at a time. A shell that dies is started again,
// once per request.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { OperationError } from '../errors.js';
import { encodeName } from '../fs/names.js';
import { singleQuotedBytes } from '../master/shell-quote.js';
import { GETFATTR_DUMP, getfattrOutcome, MAX_OUTPUT, TOOL_ENV, type Xattrs } from './xattrs.js';

/** The script of one request. Pure. */
export function getfattrScript(paths: readonly string[], nonce: string): Buffer {
  const words = paths.map((p) => singleQuotedBytes(encodeName(p)));
  return Buffer.concat([
    Buffer.from(`getfattr ${GETFATTR_DUMP.join(' ')} --`),
    ...words.flatMap((w) => [Buffer.from(' '), w]),
    Buffer.from(`\nprintf '\\n%s %s\\n' ${nonce} "$?"\nprintf '%s\\n' ${nonce} >&2\n`),
  ]);
}

class ShellEnded extends Error {}

interface Reply {
  stdout: Buffer;
  stderr: string;
  status: number;
}

export class XattrReader {
  private shell: ChildProcessWithoutNullStreams | undefined;
  private readonly nonce = `pacha-end-${randomBytes(16).toString('hex')}`;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly env: NodeJS.ProcessEnv = TOOL_ENV) {}

  /** Every attribute of each path (names.ts strings, absolute), symlinks not followed; undefined when getfattr is not installed. */
  read(paths: readonly string[]): Promise<Map<string, Xattrs> | undefined> {
    if (paths.length === 0) return Promise.resolve(new Map());
    const what = `of ${paths[0]}${paths.length > 1 ? ` and ${paths.length - 1} more` : ''}`;
    const run = this.queue.then(async () => {
      let reply: Reply;
      try {
        reply = await this.ask(paths);
      } catch (error) {
        if (!(error instanceof ShellEnded)) throw error;
        reply = await this.ask(paths).catch((again: unknown) => {
          if (again instanceof ShellEnded) throw new OperationError('ECAPTURE', `cannot read the extended attributes ${what}: the shell running getfattr ended twice (${again.message})`);
          throw again;
        });
      }
      return getfattrOutcome({ notInstalled: reply.status === 127, failed: reply.status !== 0, stdout: reply.stdout, stderr: reply.stderr }, what);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Ends the kept shell (it also ends by itself when this process does: its stdin closes). */
  close(): void {
    this.shell?.stdin.end();
    this.shell = undefined;
  }

  private start(): ChildProcessWithoutNullStreams {
    const shell = spawn('sh', [], { env: this.env, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
    shell.stdin.on('error', () => undefined);
    const forget = (): void => {
      if (this.shell === shell) this.shell = undefined;
    };
    shell.once('exit', forget);
    shell.once('error', forget);
    idle(shell);
    return shell;
  }

  private ask(paths: readonly string[]): Promise<Reply> {
    const shell = (this.shell ??= this.start());
    const stdoutEnd = Buffer.from(`\n${this.nonce} `);
    const stderrEnd = Buffer.from(`${this.nonce}\n`);
    return new Promise<Reply>((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outSize = 0;
      let stdout: Buffer | undefined;
      let status = 0;
      let stderr: string | undefined;
      const finish = (error?: Error): void => {
        shell.stdout.off('data', onOut);
        shell.stderr.off('data', onErr);
        shell.off('exit', onExit);
        shell.off('error', onError);
        idle(shell);
        if (error) reject(error);
        else resolve({ stdout: stdout!, stderr: stderr!, status });
      };
      const onOut = (chunk: Buffer): void => {
        out.push(chunk);
        outSize += chunk.length;
        if (outSize > MAX_OUTPUT) {
          this.close();
          shell.kill('SIGKILL');
          return finish(new OperationError('ECAPTURE', `getfattr printed more than ${MAX_OUTPUT} bytes of extended attributes`));
        }
        const all = Buffer.concat(out);
        const at = all.indexOf(stdoutEnd);
        const eol = at === -1 ? -1 : all.indexOf(0x0a, at + stdoutEnd.length);
        if (eol === -1) return;
        stdout = all.subarray(0, at);
        status = Number(all.subarray(at + stdoutEnd.length, eol).toString('latin1'));
        if (stderr !== undefined) finish();
      };
      const onErr = (chunk: Buffer): void => {
        err.push(chunk);
        const all = Buffer.concat(err);
        const at = all.indexOf(stderrEnd);
        if (at === -1) return;
        stderr = all.subarray(0, at).toString('utf8');
        if (stdout !== undefined) finish();
      };
      const onExit = (code: number | null, signal: string | null): void => finish(new ShellEnded(`sh exited ${signal ?? code}`));
      const onError = (error: Error): void => finish(new ShellEnded(error.message));
      shell.stdout.on('data', onOut);
      shell.stderr.on('data', onErr);
      shell.once('exit', onExit);
      shell.once('error', onError);
      busy(shell);
      shell.stdin.write(getfattrScript(paths, this.nonce));
    });
  }
}

/** While a request waits, the shell's pipes keep this process alive; between requests they do not. */
function busy(shell: ChildProcessWithoutNullStreams): void {
  shell.ref();
  for (const pipe of [shell.stdin, shell.stdout, shell.stderr]) (pipe as unknown as { ref?: () => void }).ref?.();
}

function idle(shell: ChildProcessWithoutNullStreams): void {
  shell.unref();
  for (const pipe of [shell.stdin, shell.stdout, shell.stderr]) (pipe as unknown as { unref?: () => void }).unref?.();
}
