// Master.copyRefs over SSH: a repository's refs fetched through the connection pacha already
// holds (ssh2), by speaking git's pack protocol to `git-upload-pack` there — the command git
// itself would send through OpenSSH, so a plain shell account and the gate both serve it.
// Boot used to open a second connection for git (OpenSSH, for the fence read and the clone):
// under a boot storm every instance then paid two handshakes on the master, and each retry
// of a dropped one spawned git, sh and ssh again. Here a fetch is one exec channel on the
// connection boot's wait opened, and one local `git index-pack`.
// The master is not trusted: the advertisement is checked (pkt-line.ts), the pack goes through
// index-pack (every object hashed), and the refs are set only once every object they reach is
// known to be here: the pack links only to itself and holds every tip, or git's connectivity
// check says so (copied-refs.ts). A master silent for MAX_SILENCE_MS is given up on, as a dropped connection
// (its words, "did not answer within", are what master/transient.ts retries).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { baseEnvironment } from '../store/git.js';
import { localGitRun, setCopiedRefs, type CopiedRef } from './copied-refs.js';
import { packIndexHolds } from './pack-index.js';
import { demuxSideBand, encodePkt, fetchRequest, parseAdvertisement, parseShallowLines, pktText, chooseSideBand } from './pkt-line.js';
import { EndedEarly, PktReader } from './pkt-reader.js';

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
  // A whole-history fetch: index-pack tells whether the pack links only to itself; if it
  // also holds every tip, the refs are whole without git's walk over every object (what git
  // clone trusts too). A shallow one lacks the parents by design: git's check decides.
  const indexed = await indexPack(reader, options.gitDir, shallow.length === 0 && options.depth === undefined);
  if (shallow.length > 0) await writeFile(path.join(options.gitDir, 'shallow'), shallow.map((s) => `${s}\n`).join(''));
  const connected = indexed.selfContained && (await packHolds(options.gitDir, indexed.pack, copied.map((c) => c.sha)));
  return setCopiedRefs(localGitRun(options.gitDir), copied, `${options.label}: ${INCOMPLETE}`, { connected });
}

const INCOMPLETE = 'the master did not send every object its refs need';

/** Whether the pack `pack-<name>` in gitDir holds every one of `oids` (its index read here). */
async function packHolds(gitDir: string, name: string | undefined, oids: readonly string[]): Promise<boolean> {
  if (name === undefined || !/^[0-9a-f]+$/.test(name)) return false;
  const idx = await readFile(path.join(gitDir, 'objects', 'pack', `pack-${name}.idx`)).catch(() => undefined);
  return idx !== undefined && oids.every((oid) => packIndexHolds(idx, oid));
}

/**
 * The pack from the side band into `git index-pack --stdin` in gitDir (every object hashed
 * and checked there). `checkLinks`: with --check-self-contained-and-connected, index-pack
 * parses every commit, tree and tag and refuses a pack that links to an object neither in it
 * nor already here; it exits 1 when the pack links to objects already here (not
 * self-contained: the caller runs git's connectivity check). Returns the pack's name.
 */
async function indexPack(reader: PktReader, gitDir: string, checkLinks: boolean): Promise<{ pack: string | undefined; selfContained: boolean }> {
  const args = ['index-pack', '--stdin', '--fix-thin', ...(checkLinks ? ['--check-self-contained-and-connected'] : [])];
  const child = spawn('git', args, { env: { ...baseEnvironment(), GIT_DIR: gitDir }, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  child.stdin.on('error', () => undefined); // index-pack exiting early is reported by its status
  const exited = once(child, 'close') as Promise<[number | null]>;
  try {
    for (;;) {
      const pkt = await reader.nextPieces();
      if (!pkt) throw new EndedEarly('before the pack ended');
      if (pkt.kind === 'flush') break;
      // The band is the payload's first byte: the pack's bytes go on in the pieces they came in, one writev.
      const [first = Buffer.alloc(0), ...rest] = pkt.pieces;
      const band = demuxSideBand(rest.length > 0 && first[0] === 3 ? Buffer.concat(pkt.pieces) : first);
      if (band.band === 'error') throw new Error(`the master's git-upload-pack failed: ${band.message}`);
      if (band.band !== 'pack') continue;
      child.stdin.cork();
      if (band.data.length > 0) child.stdin.write(band.data);
      for (const piece of rest) child.stdin.write(piece);
      child.stdin.uncork();
      if (child.stdin.writableNeedDrain) await Promise.race([once(child.stdin, 'drain'), exited]);
    }
    child.stdin.end();
  } catch (error) {
    child.kill();
    throw error;
  }
  const [status] = await exited;
  const pack = /^(?:pack|keep)\t([0-9a-f]+)$/m.exec(stdout)?.[1];
  if (status === 0 || (checkLinks && status === 1)) return { pack, selfContained: checkLinks && status === 0 };
  const said = stderr.trim().split('\n').at(-1) ?? `exit ${status}`;
  if (/did not receive expected object/.test(said)) throw new Error(`${INCOMPLETE} (${said.replace(/^fatal: /, '')})`);
  throw new Error(`git index-pack refused the pack: ${said}`);
}
