// Reading objects of a local repository by name in one git process, and the metadata of a
// commit from them (metadata-files.ts): its header, then every shard its tree holds. Always
// from git's objects, never a checkout: a `.pacha` symlink there could point anywhere, and
// `<commit>:.pacha/…` resolves only through real trees.
import type { Git } from './git.js';
import { METADATA_SHARDS_DIR, parseMetadataFiles } from './metadata-files.js';
import { METADATA_PATH } from './metadata.js';

export interface GitObject {
  oid: string;
  type: string;
  content: Buffer;
}

/**
 * `git cat-file --batch` of several objects named by revision: each one's type and bytes,
 * or undefined when it does not resolve. Parses git's "<oid> <type> <size>\n<bytes>\n"
 * records and "<name> missing\n" lines.
 */
export async function catFileBatch(git: Git, revisions: readonly string[]): Promise<Array<GitObject | undefined>> {
  if (revisions.some((r) => /[\n\0]/.test(r))) throw new Error('a revision with a newline cannot be asked of git cat-file --batch');
  const out = await git.bytes(['cat-file', '--batch'], Buffer.from(revisions.map((r) => `${r}\n`).join('')));
  const objects: Array<GitObject | undefined> = [];
  let at = 0;
  for (const revision of revisions) {
    const end = out.indexOf(0x0a, at);
    if (end === -1) throw new Error(`git cat-file --batch ended early (at ${revision})`);
    const header = out.subarray(at, end).toString('utf8');
    at = end + 1;
    const m = /^([0-9a-f]{40,64}) (\S+) (\d+)$/.exec(header);
    if (!m) {
      if (!header.endsWith(' missing') && !header.endsWith(' ambiguous')) throw new Error(`git cat-file --batch said '${header}' for ${revision}`);
      objects.push(undefined);
      continue;
    }
    const size = Number(m[3]);
    if (at + size > out.length) throw new Error(`git cat-file --batch ended early (in ${revision})`);
    objects.push({ oid: m[1]!, type: m[2]!, content: out.subarray(at, at + size) });
    at += size + 1; // the object's bytes, then a newline
  }
  return objects;
}

/**
 * The metadata of `revision` (unchecked: rebuild/validate.ts checks it), and the objects named
 * by `also`, read in the same process. Two `cat-file --batch` runs: the header, the shards'
 * tree and `also`, then the shards. `problem`, instead of the metadata, when the header is
 * missing or not a file, a shard is not a plain file, or a text is not JSON (the caller says
 * what that means: `also` may tell why first, a commit that is not there).
 */
export async function readMetadataAt(git: Git, revision: string, also: readonly string[] = []): Promise<{ metadata?: unknown; problem?: Error; also: Array<GitObject | undefined> }> {
  const objects = await catFileBatch(git, [...also, `${revision}:${METADATA_PATH}`, `${revision}:${METADATA_SHARDS_DIR}`]);
  const [header, shards] = objects.slice(also.length);
  try {
    if (header?.type !== 'blob') throw new Error(`${METADATA_PATH} is ${header ? `a ${header.type}` : 'missing'}, not a file`);
    let texts: Buffer[] = [];
    if (shards) {
      if (shards.type !== 'tree') throw new Error(`${METADATA_SHARDS_DIR} is a ${shards.type}, not a directory`);
      const ids = treeBlobs(shards.content, shards.oid.length / 2);
      const read = ids.length === 0 ? [] : await catFileBatch(git, ids);
      texts = read.map((object, i) => {
        if (object?.type !== 'blob') throw new Error(`a shard of ${METADATA_SHARDS_DIR} (${ids[i]}) is ${object ? `a ${object.type}` : 'missing'}`);
        return object.content;
      });
    }
    return { metadata: parseMetadataFiles(header.content, texts), also: objects.slice(0, also.length) };
  } catch (error) {
    return { problem: error as Error, also: objects.slice(0, also.length) };
  }
}

/** The blob ids of a raw tree object's entries ("<mode> <name>\0<id bytes>"); throws on anything but a regular file in it. */
function treeBlobs(tree: Buffer, idBytes: number): string[] {
  const ids: string[] = [];
  for (let at = 0; at < tree.length; ) {
    const nul = tree.indexOf(0, at);
    if (nul === -1 || nul + 1 + idBytes > tree.length) throw new Error(`${METADATA_SHARDS_DIR} is not a git tree`);
    const entry = tree.subarray(at, nul).toString('latin1');
    const mode = entry.slice(0, entry.indexOf(' '));
    if (mode !== '100644' && mode !== '100755') throw new Error(`${METADATA_SHARDS_DIR}/${entry.slice(entry.indexOf(' ') + 1)} is not a plain file (mode ${mode})`);
    ids.push(tree.toString('hex', nul + 1, nul + 1 + idBytes));
    at = nul + 1 + idBytes;
  }
  return ids;
}
