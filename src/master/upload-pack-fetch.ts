// Master.copyRefs over SSH: a repository's refs fetched through the connection pacha already
// holds (ssh2), by speaking git's pack protocol to `git-upload-pack` there — the command git
// itself would send through OpenSSH, so a plain shell account and the gate both serve it.
// Boot used to open a second connection for git (OpenSSH, for the fence read and the clone):
// under a boot storm every instance then paid two handshakes on the master, and each retry
// of a dropped one spawned git, sh and ssh again. Here a fetch is one exec channel on the
// connection boot's wait opened, and one local `git index-pack`.
// The master is not trusted: the advertisement is checked (pkt-line.ts), the pack goes through
// index-pack (every object hashed), and the refs are set only after git's connectivity check
// (copied-refs.ts). A master silent for MAX_SILENCE_MS is given up on, as a dropped connection
// (its words, "did not answer within", are what master/transient.ts retries).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { baseEnvironment } from '../store/git.js';
import { localGitRun, setCopiedRefs, type CopiedRef } from './copied-refs.js';
import { demuxSideBand, encodePkt, fetchRequest, parseAdvertisement, parseShallowLines, pktText, pktRefusal, splitPkt, chooseSideBand, type Pkt } from './pkt-line.js';

/** How long the master may send nothing before the fetch is given up (then retried as a dropped connection). */
export const MAX_SILENCE_MS = 60_000;

/** An exec channel: stdout/stdin as a duplex, stderr beside it. */
export interface ExecChannel extends Duplex {
  stderr: Readable;
}

export interface UploadPackFetch {
  channel: ExecChannel;
  /** Who is fetched from, for errors: `ssh://…/HOST/NAME`. */
  label: string;
  gitDir: string;
  pick: (ref: string) => string | undefined;
  /** Fetch only this many commits of history (the fence read: 1). */
  depth?: number | undefined;
  silenceMs?: number;
}

/** The stream ended before the protocol did; what was going on then. */
class EndedEarly extends Error {}

/** The pkt-lines of a stream, one at a time; undefined at its end. Silence longer than `silenceMs` is an error. */
class PktReader {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly chunks: AsyncIterator<Buffer>;

  constructor(
    stream: Readable,
    private readonly silenceMs: number,
  ) {
    this.chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  private async chunk(): Promise<IteratorResult<Buffer>> {
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`did not answer within ${this.silenceMs / 1000} s`)), this.silenceMs);
    });
    try {
      return await Promise.race([this.chunks.next(), silent]);
    } finally {
      clearTimeout(timer);
    }
  }

  async next(): Promise<Pkt | undefined> {
    for (;;) {
      const split = splitPkt(this.buffer);
      if (split) {
        this.buffer = this.buffer.subarray(split.size);
        return split.pkt;
      }
      const chunk = await this.chunk();
      if (chunk.done) {
        if (this.buffer.length > 0) throw new EndedEarly('in the middle of a pkt-line');
        return undefined;
      }
      this.buffer = this.buffer.length === 0 ? chunk.value : Buffer.concat([this.buffer, chunk.value]);
    }
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

/** Fetch the picked refs into `gitDir` and set them. The refs copied: the master's name -> commit. */
export async function fetchByUploadPack(options: UploadPackFetch): Promise<Record<string, string>> {
  const { channel } = options;
  let stderr = '';
  channel.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString('utf8');
  });
  channel.stderr.on('error', () => undefined);
  // The exit status, when the master's command sent one (ssh2: 'exit' before or after the stream's end).
  const exited = new Promise<number | null | undefined>((resolve) => {
    channel.once('exit', (code: number | null) => resolve(code));
    channel.once('close', () => resolve(undefined));
  });
  try {
    return await fetchOver(new PktReader(channel, options.silenceMs ?? MAX_SILENCE_MS), options);
  } catch (error) {
    let reason = (error as Error).message;
    if (error instanceof EndedEarly) {
      // No exit status: the connection went (worth another try); one: the master's git said no.
      const code = await Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5000).unref())]);
      reason = code === undefined || code === null ? `the connection to the master was lost ${reason}` : `git-upload-pack exited ${code} ${reason}`;
    }
    const said = stderr.trim();
    throw new Error(`${options.label}: ${reason}${said ? `: ${said.split('\n').slice(-3).join(' ')}` : ''}`, { cause: error });
  } finally {
    channel.destroy();
  }
}

async function fetchOver(reader: PktReader, options: UploadPackFetch): Promise<Record<string, string>> {
  const { channel } = options;
  const advertisement = parseAdvertisement(await reader.untilFlush('the ref advertisement'));
  const copied: CopiedRef[] = [];
  for (const [ref, sha] of advertisement.refs) {
    const local = options.pick(ref);
    if (local !== undefined) copied.push({ ref, local, sha });
  }
  const request = fetchRequest({ wants: copied.map((c) => c.sha), depth: options.depth, capabilities: advertisement.capabilities });
  channel.write(request);
  if (copied.length === 0) return {};
  if (!chooseSideBand(advertisement.capabilities)) throw new Error('its git-upload-pack offers no side band (git older than 1.6)');
  const shallow = options.depth !== undefined && advertisement.capabilities.has('shallow') ? parseShallowLines(await reader.untilFlush('the shallow list')) : [];
  channel.end(encodePkt('done\n'));
  const answer = await reader.next();
  if (answer?.kind !== 'data' || !/^(NAK|ACK )/.test(pktText(answer.payload))) throw new Error('its git-upload-pack did not answer the request with NAK');
  await indexPack(reader, options.gitDir);
  if (shallow.length > 0) await writeFile(path.join(options.gitDir, 'shallow'), shallow.map((s) => `${s}\n`).join(''));
  return setCopiedRefs(localGitRun(options.gitDir), copied, `${options.label}: the master did not send every object its refs need`);
}

/** The pack from the side band into `git index-pack --stdin` in gitDir (every object hashed and checked there). */
async function indexPack(reader: PktReader, gitDir: string): Promise<void> {
  const child = spawn('git', ['index-pack', '--stdin', '--fix-thin'], { env: { ...baseEnvironment(), GIT_DIR: gitDir }, cwd: '/', stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  child.stdin.on('error', () => undefined); // index-pack exiting early is reported by its status
  const exited = once(child, 'close') as Promise<[number | null]>;
  try {
    for (;;) {
      const pkt = await reader.next();
      if (!pkt) throw new EndedEarly('before the pack ended');
      if (pkt.kind === 'flush') break;
      const band = demuxSideBand(pkt.payload);
      if (band.band === 'error') throw new Error(`the master's git-upload-pack failed: ${band.message}`);
      if (band.band === 'pack' && !child.stdin.write(band.data)) await Promise.race([once(child.stdin, 'drain'), exited]);
    }
    child.stdin.end();
  } catch (error) {
    child.kill();
    throw error;
  }
  const [status] = await exited;
  if (status !== 0) throw new Error(`git index-pack refused the pack: ${stderr.trim().split('\n').at(-1) ?? `exit ${status}`}`);
}
