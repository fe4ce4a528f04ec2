// The daemon's one-edit push to a master that can take an update in one round trip
// (Master.applyUpdate: a plain shell account's kept `sh`, master/fast-update.ts): the pack of
// the commits the master lacks, by one `git pack-objects`, and the update handed over. Any
// refusal or failure answers false and the caller pushes with git as always, so what a push
// means (never forced; a divergence recorded) is git push's to decide.
import { spawn } from 'node:child_process';
import { FAST_UPDATE_MAX_PACK_BYTES, fitsOnePatch } from '../master/fast-update.js';
import type { Master } from '../master/master.js';
import { baseEnvironment, gitAt } from './git.js';
import { packFile, type PackObject } from './pack-file.js';

/**
 * `git pack-objects --revs` of to ^from (no thin deltas: the master must not need to fix it), or
 * undefined once it outgrows `limit` bytes. Deflated at zlib level 1, as loose objects are: the
 * pack crosses a loopback or LAN once, and the metadata of a 50k-file tree (6 MB) is in every
 * one (level 1 packs it in about 2/3 of the time of git's default level, about 20 % bigger).
 */
export function packBetween(gitDir: string, from: string, to: string, limit = FAST_UPDATE_MAX_PACK_BYTES): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const child = spawn('git', ['-c', 'pack.compression=1', 'pack-objects', '--stdout', '--revs', '-q', '--delta-base-offset'], {
      env: { ...baseEnvironment(), GIT_DIR: gitDir },
      cwd: '/',
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        tooBig = true;
        child.kill('SIGKILL');
      } else chunks.push(chunk);
    });
    child.once('error', () => resolve(undefined));
    child.once('close', (code) => resolve(code === 0 && !tooBig ? Buffer.concat(chunks) : undefined));
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${to}\n^${from}\n`);
  });
}

/**
 * Hand the master the commits from..to in one round trip when it can take them that way;
 * true when its branch is now `to` (acknowledged), false when git push must do it.
 * `objects`: every object to adds to from, when the caller knows them (the live commit that
 * made `to` on `from`): packed here, without a git process.
 */
export async function pushInOneRoundTrip(
  master: Master,
  host: string,
  name: string,
  gitDir: string,
  from: string,
  to: string,
  objects?: readonly PackObject[],
): Promise<boolean> {
  if (!master.applyUpdate) return false;
  // A live commit kept its objects only when its change fits one patch (live.ts); else it is weighed here first.
  const pack = objects
    ? () => packFile(objects, FAST_UPDATE_MAX_PACK_BYTES)
    : async () => (fitsOnePatch((await changedContentBytes(gitDir, from, to)) ?? Infinity) ? packBetween(gitDir, from, to) : undefined);
  return master.applyUpdate(host, name, { from, to, pack });
}

/** One side of a `diff-tree --raw` record: a blob's mode and a real object name. */
const BLOB_MODES = new Set(['100644', '100755', '120000']);

/**
 * The bytes of every file's content the change from..to removes, replaces or adds (what its
 * patch carries, fast-update.ts fitsOnePatch), by `git diff-tree --raw` and `git cat-file
 * --batch-check`; undefined when git cannot say.
 */
export async function changedContentBytes(gitDir: string, from: string, to: string): Promise<number | undefined> {
  const git = gitAt({ gitDir });
  try {
    const raw = (await git.bytes(['diff-tree', '-r', '-z', '--raw', '--no-renames', from, to])).toString('latin1').split('\0');
    const blobs: string[] = [];
    // Records are ":oldmode newmode old new status" then the path, each ended by NUL.
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const [oldMode, newMode, oldId, newId] = raw[i]!.slice(1).split(' ');
      if (oldId === newId) continue; // a mode changed alone: no content in the patch
      if (BLOB_MODES.has(oldMode!)) blobs.push(oldId!);
      if (BLOB_MODES.has(newMode!)) blobs.push(newId!);
    }
    if (blobs.length === 0) return 0;
    const sizes = (await git.bytes(['cat-file', '--batch-check=%(objectsize)'], Buffer.from(`${blobs.join('\n')}\n`))).toString('latin1').trim().split('\n');
    let total = 0;
    for (const size of sizes) {
      if (!/^\d+$/.test(size)) return undefined; // "<id> missing"
      total += Number(size);
    }
    return total;
  } catch {
    return undefined;
  }
}
