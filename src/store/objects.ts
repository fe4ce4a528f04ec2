// Loose git objects written by pacha itself: the daemon's commit of one edit hashes the
// changed files, the metadata and the commit object here instead of starting a git process
// for each (issue 14: at most 8 processes per commit and push). The format is git's own
// (`<type> <size>\0<content>`, SHA-1, zlib), so git reads them like its own; `git fsck`
// checks them in the tests. Big files are left to git (core.bigFileThreshold streams them
// into packs), so this never holds more than SMALL_FILE bytes of one file in memory.
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { createDeflate, deflateSync, inflateSync } from 'node:zlib';
import { crypto } from '../lazy-builtins.js';

/** Files up to this size are hashed and stored here; bigger ones make the commit go through git. */
export const SMALL_FILE = 1024 * 1024;

export type ObjectType = 'blob' | 'tree' | 'commit';

/** The object id git gives `content` (one buffer, its pieces in order, or a text as UTF-8) as `type`. Pure. */
export function objectId(type: ObjectType, content: Buffer | readonly Buffer[] | string): string {
  if (typeof content === 'string') return crypto().createHash('sha1').update(`${type} ${Buffer.byteLength(content)}\0`).update(content).digest('hex');
  const pieces = Buffer.isBuffer(content) ? [content] : content;
  const hash = crypto().createHash('sha1').update(`${type} ${pieces.reduce((n, p) => n + p.length, 0)}\0`);
  for (const piece of pieces) hash.update(piece);
  return hash.digest('hex');
}

/**
 * zlib level 1 (git's core.looseCompression default, Z_BEST_SPEED) of `pieces` in order.
 * They are streamed through one deflate (on the thread pool), so a multi-megabyte object
 * (the metadata of a big tree) is never copied into one buffer.
 */
export async function deflatePieces(pieces: readonly Buffer[]): Promise<Buffer> {
  if (pieces.reduce((n, p) => n + p.length, 0) < 64 * 1024) return deflateSync(Buffer.concat(pieces), { level: 1 });
  const deflate = createDeflate({ level: 1 });
  const out: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = once(deflate, 'end');
  for (const piece of pieces) deflate.write(piece);
  deflate.end();
  await ended;
  return Buffer.concat(out);
}

/**
 * Store one object in `<gitDir>/objects` (a no-op when it is there already) and return its id.
 * Written to a temporary name and linked into place, as git does: a reader never sees half.
 * Only the deflating of a big object goes to the thread pool; the file is written with
 * synchronous calls (five system calls on the local state dir cost less than as many round
 * trips through the pool, and one edit's commit writes about six objects in sequence).
 */
export async function writeObject(gitDir: string, type: ObjectType, content: Buffer | readonly Buffer[]): Promise<string> {
  const pieces = Buffer.isBuffer(content) ? [content] : content;
  const id = objectId(type, pieces);
  const dir = path.join(gitDir, 'objects', id.slice(0, 2));
  const file = path.join(dir, id.slice(2));
  if (existsSync(file)) return id;
  const size = pieces.reduce((n, p) => n + p.length, 0);
  const deflated = await deflatePieces([Buffer.from(`${type} ${size}\0`), ...pieces]);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const temp = path.join(dir, `tmp_obj_pacha_${process.pid}_${Math.random().toString(36).slice(2)}`);
  try {
    writeFileSync(temp, deflated, { mode: 0o444 });
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // gone already
    }
  }
  return id;
}

/** `git commit-tree`'s object: tree, parent, author and committer now (local offset), message with a final newline. Pure. */
export function commitObject(options: { tree: string; parent?: string | undefined; name: string; email: string; message: string; now?: Date }): Buffer {
  const now = options.now ?? new Date();
  const offset = -now.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  const who = `${options.name} <${options.email}> ${Math.floor(now.getTime() / 1000)} ${zone}`;
  const message = options.message.endsWith('\n') ? options.message : `${options.message}\n`;
  const lines = [`tree ${options.tree}`, ...(options.parent ? [`parent ${options.parent}`] : []), `author ${who}`, `committer ${who}`, '', message];
  return Buffer.from(lines.join('\n'));
}

/** A loose object's type and content; undefined when it is not loose (packed, or absent). Synchronous: commits are small. */
export function readLooseObject(gitDir: string, id: string): { type: string; content: Buffer } | undefined {
  let raw: Buffer;
  try {
    raw = inflateSync(readFileSync(path.join(gitDir, 'objects', id.slice(0, 2), id.slice(2))));
  } catch {
    return undefined;
  }
  const nul = raw.indexOf(0);
  const [type] = raw.subarray(0, nul).toString('latin1').split(' ');
  return { type: type!, content: raw.subarray(nul + 1) };
}

/**
 * How many commits `head` has that `base` has not, following first parents through loose
 * objects (a daemon's new commits are loose until git gc packs them); undefined when the
 * walk meets a packed object, a merge or more than `limit` commits (ask git then).
 */
export async function countLooseCommits(gitDir: string, head: string, base: string | undefined, limit = 200): Promise<number | undefined> {
  let count = 0;
  for (let id: string | undefined = head; id !== base; count++) {
    if (id === undefined || count >= limit) return undefined;
    const object = readLooseObject(gitDir, id);
    if (object?.type !== 'commit') return undefined;
    const text = object.content.toString('latin1');
    const header = text.slice(0, text.indexOf('\n\n'));
    const parents = [...header.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((m) => m[1]!);
    if (parents.length > 1) return undefined;
    id = parents[0];
    if (id === undefined && base !== undefined) return undefined;
    if (id === undefined) return count + 1;
  }
  return count;
}

/** A commit's sha, committer time (as `git log --format=%cI` prints it) and subject (%s). */
export interface CommitSummary {
  sha: string;
  time: string;
  subject: string;
}

/**
 * `git log -1 --format=%H%x00%cI%x00%s` of a loose commit, read without a git process
 * (`pacha status` on every path); undefined when the commit is not loose (ask git then).
 */
export async function readCommitSummary(gitDir: string, id: string): Promise<CommitSummary | undefined> {
  const object = readLooseObject(gitDir, id);
  if (object?.type !== 'commit') return undefined;
  return parseCommitSummary(id, object.content.toString('utf8'));
}

/** Pure: the summary of a commit object's text; undefined when it has no committer line. */
export function parseCommitSummary(sha: string, text: string): CommitSummary | undefined {
  const end = text.indexOf('\n\n');
  const headers = (end === -1 ? text : text.slice(0, end)).split('\n');
  const committer = headers.find((l) => l.startsWith('committer '))?.match(/ (\d+) ([+-])(\d\d)(\d\d)$/);
  if (!committer) return undefined;
  const [, seconds, sign, hours, minutes] = committer;
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes));
  const local = new Date((Number(seconds) + offsetMinutes * 60) * 1000).toISOString().slice(0, 19);
  const body = end === -1 ? '' : text.slice(end + 2);
  // As git's %s: the first paragraph (after blank lines), its lines' ends trimmed, joined by spaces.
  const lines = body.split('\n');
  const blank = (l: string) => l.trim() === '';
  const start = lines.findIndex((l) => !blank(l));
  const paragraph = start === -1 ? [] : lines.slice(start);
  const stop = paragraph.findIndex(blank);
  const subject = (stop === -1 ? paragraph : paragraph.slice(0, stop)).map((l) => l.trimEnd()).join(' ');
  return { sha, time: `${local}${sign}${hours}:${minutes}`, subject };
}
