// `pacha-gate session`: the daemon's kept session through the gate. One `pacha serve` runs
// for the connection's life and takes, one after another, `apply-update NAME FROM TO BYTES`
// lines each followed by a pack (decide.ts decides each line; the host is always the key's
// own), moves the repository's branch, index and working copy with git by argv
// (master/fast-update.ts's steps, as a push to a checked-out branch would) and answers one
// JSON line per update. A refused line ends the session, as a refused command does.
import { spawn } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { minimalEnv } from '../../child-env.js';
import { fsPath, splitNul } from '../../fs/names.js';
import { FAST_UPDATE_GC_EVERY, FAST_UPDATE_MAX_PATCH_BYTES, FAST_UPDATE_STATUS, fastUpdateSteps, patchAddsPaths } from '../fast-update.js';
import { decideSessionLine, type SessionUpdate } from './decide.js';
import { MAX_SESSION_LINE, REFUSED_PREFIX, REFUSED_STATUS, type SessionAnswer } from './protocol.js';

/** Bytes off a stream: whole lines and exact counts, nothing read past what was asked for. */
export class StreamReader {
  private buffer = Buffer.alloc(0);
  private done = false;
  private readonly chunks: AsyncIterator<Buffer | string>;

  constructor(stream: NodeJS.ReadableStream) {
    this.chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  }

  private async more(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    this.buffer = Buffer.concat([this.buffer, Buffer.from(next.value)]);
    return true;
  }

  /** The next line without its newline; undefined at the end; `null` when longer than max. */
  async line(max: number): Promise<string | undefined | null> {
    for (;;) {
      const end = this.buffer.indexOf(0x0a);
      if (end >= 0 && end <= max) {
        const line = this.buffer.subarray(0, end).toString('latin1');
        this.buffer = this.buffer.subarray(end + 1);
        return line;
      }
      if (end > max || this.buffer.length > max) return null;
      if (!(await this.more())) return this.buffer.length === 0 ? undefined : null;
    }
  }

  /** Exactly n bytes; undefined when the stream ends first. */
  async bytes(n: number): Promise<Buffer | undefined> {
    while (this.buffer.length < n) if (!(await this.more())) return undefined;
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }
}

/** A git step's outcome; `overflow` when its output passed `maxOutput` bytes (it was stopped then). */
function git(
  repo: string,
  argv: readonly string[],
  input?: Buffer,
  env: Record<string, string> = {},
  maxOutput = Infinity,
): Promise<{ code: number; stdout: Buffer; stderr: string; overflow?: true }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: repo, env: { ...minimalEnv(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let size = 0;
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= maxOutput) stdout.push(d);
      else if (!child.killed) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
    child.once('error', (error) => resolve({ code: 127, stdout: Buffer.concat(stdout), stderr: error.message }));
    child.once('close', (code) =>
      resolve(size > maxOutput ? { code: code ?? 1, stdout: Buffer.alloc(0), stderr, overflow: true } : { code: code ?? 1, stdout: Buffer.concat(stdout), stderr }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/**
 * Whether something in the working copy is in the way of a path the update adds (fast-update.ts,
 * inTheWayScript, decides the same for the plain account): a real directory at the path, or a
 * leading component there that is not a real directory and that the update does not delete.
 */
async function inTheWay(repo: string, steps: ReturnType<typeof fastUpdateSteps>): Promise<boolean> {
  const added = await git(repo, steps.added);
  if (added.code !== 0) return true;
  // Names as pacha's strings carry them (fs/names.ts): one that is not UTF-8 reaches lstat as its bytes.
  const at = (name: string) => lstat(fsPath(`${repo}/${name}`)).catch(() => undefined);
  let deleted: Set<string> | undefined;
  for (const name of splitNul(added.stdout)) {
    if ((await at(name))?.isDirectory()) return true;
    for (let slash = name.indexOf('/'); slash >= 0; slash = name.indexOf('/', slash + 1)) {
      const leading = name.slice(0, slash);
      const stat = await at(leading);
      if (!stat || stat.isDirectory()) continue;
      if (!deleted) {
        const listed = await git(repo, steps.deleted);
        deleted = new Set(listed.code === 0 ? splitNul(listed.stdout) : []);
      }
      if (!deleted.has(leading)) return true;
    }
  }
  return false;
}

/** One update in a repository the gate checked, by git's argv (the plain account's script's steps, fast-update.ts); the answer for the client. */
export async function applyUpdateHere(repo: string, update: SessionUpdate, pack: Buffer, gc: boolean): Promise<SessionAnswer> {
  const steps = fastUpdateSteps(update.from, update.to);
  const fail = (status: number, detail = ''): SessionAnswer => ({ status, reason: `${FAST_UPDATE_STATUS[status]}${detail ? `: ${detail.trim().split('\n').at(-1)}` : ''}` });
  const unpacked = await git(repo, steps.unpack, pack);
  if (unpacked.code !== 0) return fail(93, unpacked.stderr);
  const patch = await git(repo, steps.patch, undefined, steps.patchEnv, FAST_UPDATE_MAX_PATCH_BYTES);
  if (patch.overflow) return fail(97);
  if (patch.code !== 0) return fail(96, patch.stderr);
  if (patchAddsPaths(patch.stdout) && (await inTheWay(repo, steps))) return fail(98);
  const moved = await git(repo, steps.move);
  if (moved.code !== 0) return fail(94, moved.stderr);
  const applied = patch.stdout.length === 0 ? undefined : await git(repo, steps.apply, patch.stdout);
  if (applied && applied.code !== 0) {
    await git(repo, steps.undo);
    return fail(95, applied.stderr);
  }
  if (gc) await git(repo, steps.gc);
  return { status: 0 };
}

export interface SessionIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** The repository of the key's own host, after the gate's disk checks (throws a refusal). */
  repository(name: string): Promise<string>;
  log(outcome: string): Promise<void>;
}

/** Serve a kept session until the client closes it; the exit status for sshd. */
export async function serveSession(io: SessionIo): Promise<number> {
  const reader = new StreamReader(io.stdin);
  let updates = 0;
  for (;;) {
    const line = await reader.line(MAX_SESSION_LINE);
    if (line === undefined) return 0;
    const decision = line === null ? { allowed: false as const, reason: `a request line longer than ${MAX_SESSION_LINE} characters` } : decideSessionLine(line);
    if (!decision.allowed) {
      io.stderr.write(`${REFUSED_PREFIX}${decision.reason}\n`);
      await io.log(`session refused: ${decision.reason}`);
      return REFUSED_STATUS;
    }
    const { update } = decision;
    const pack = await reader.bytes(update.bytes);
    if (!pack) return 1;
    const repo = await io.repository(update.name);
    const answer = await applyUpdateHere(repo, update, pack, ++updates % FAST_UPDATE_GC_EVERY === 0);
    io.stdout.write(`${JSON.stringify(answer)}\n`);
    await io.log(`apply-update ${update.name} ${update.from.slice(0, 12)}..${update.to.slice(0, 12)} status ${answer.status}`);
  }
}
