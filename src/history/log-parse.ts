// Reading `git log` output for the history of a tracked path. Pure.
import type { Change } from '../store/changes.js';
import { parseNameStatus } from '../store/changes.js';
import type { MetadataEntry } from '../store/metadata.js';
import { parseTrailerLines, type Provenance } from '../store/provenance.js';

/**
 * The format `git log` is asked for: a record mark, then fields; the trailers (one per line,
 * unfolded) before the subject, which comes last (it may hold anything but NUL).
 */
export const LOG_FORMAT = '%x1e%H%x1f%P%x1f%cI%x1f%(trailers:only,unfold)%x1f%s';

export interface LoggedCommit {
  sha: string;
  parents: string[];
  time: string;
  subject: string;
  /** Who made it (its Pacha-* trailers). */
  by: Provenance;
  /** Content changes git saw (name-status, renames detected), including pacha's metadata file. */
  changes: Change[];
}

const STATUS = /^[ACDMRTUXB]\d*$/;

/**
 * Parse `git log -z --name-status -M --format=LOG_FORMAT`. Walks the NUL-separated
 * fields in order, knowing how many paths each status takes, so that no file name (which
 * may hold any byte but NUL) is ever mistaken for a record mark.
 */
export function parseLogNameStatus(output: string): LoggedCommit[] {
  const fields = output.split('\0');
  const commits: LoggedCommit[] = [];
  let current: LoggedCommit | undefined;
  for (let i = 0; i < fields.length; ) {
    const field = fields[i]!.replace(/^\n/, '');
    if (field === '') {
      i++;
      continue;
    }
    if (field.startsWith('\x1e')) {
      const [sha = '', parents = '', time = '', trailers = '', ...subject] = field.slice(1).split('\x1f');
      const by = parseTrailerLines(trailers.split('\n'));
      current = { sha, parents: parents ? parents.split(' ') : [], time, subject: subject.join('\x1f'), by, changes: [] };
      commits.push(current);
      i++;
      continue;
    }
    if (!current || !STATUS.test(field)) throw new Error(`unexpected git log output near ${JSON.stringify(field.slice(0, 40))}`);
    const arity = field[0] === 'R' || field[0] === 'C' ? 2 : 1;
    current.changes.push(...parseNameStatus([field, ...fields.slice(i + 1, i + 1 + arity)].join('\0')));
    i += 1 + arity;
  }
  return commits;
}

/** The metadata entries a commit removed and added (its lines of the metadata files' diff). */
export interface MetadataDelta {
  removed: MetadataEntry[];
  added: MetadataEntry[];
}

/** The JSON of one metadata entry line ("    {...}," as metadata-files.ts shardText and versions 1 and 2 write it), or undefined. */
function entryOfLine(line: string): MetadataEntry | undefined {
  const text = line.trim().replace(/,$/, '');
  if (!text.startsWith('{"path":')) return undefined;
  try {
    return JSON.parse(text) as MetadataEntry;
  } catch {
    return undefined;
  }
}

/**
 * Parse `git log -p -U0 --no-renames --format=%x1e%H -- .pacha/metadata.json .pacha/metadata`:
 * per commit, the entry lines it removed and added. The metadata has one entry per line, so
 * the lines of the patch are exactly the entries whose type, mode, owner, target or size
 * changed (an entry that moved to another shard, or out of a version 2 file, is both removed
 * and added as it was: no change).
 */
export function parseMetadataLog(output: string): Map<string, MetadataDelta> {
  const deltas = new Map<string, MetadataDelta>();
  let current: MetadataDelta | undefined;
  for (const line of output.split('\n')) {
    if (line.startsWith('\x1e')) {
      current = { removed: [], added: [] };
      deltas.set(line.slice(1).trim(), current);
      continue;
    }
    if (!current || line.startsWith('---') || line.startsWith('+++')) continue;
    if (line[0] !== '-' && line[0] !== '+') continue;
    const entry = entryOfLine(line.slice(1));
    if (entry) (line[0] === '-' ? current.removed : current.added).push(entry);
  }
  return deltas;
}
