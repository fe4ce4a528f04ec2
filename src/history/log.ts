// `pacha log`: the commits that touched a tracked path, or one file or directory in it,
// newest first. A commit touches a file when git saw its content change OR its metadata
// entry changed (a chmod or chown alone changes only the metadata under .pacha/, which git's
// own path filter cannot see). Two `git log` runs serve any length of history.
import { contentChanges, metadataChanges, type Change } from '../store/changes.js';
import { BRANCH } from '../store/commit.js';
import { revParse } from '../store/git.js';
import { METADATA_PATH, METADATA_VERSION, type Metadata, type MetadataEntry } from '../store/metadata.js';
import { METADATA_SHARDS_DIR } from '../store/metadata-files.js';
import { LOG_FORMAT, parseLogNameStatus, parseMetadataLog, type LoggedCommit, type MetadataDelta } from './log-parse.js';
import type { Provenance } from '../store/provenance.js';
import { historyGit } from './git.js';
import { inScope, type Scope } from './scope.js';

export interface HistoryEntry {
  sha: string;
  time: string;
  subject: string;
  /** Who made it: instance, boot, origin, user (its Pacha-* trailers). */
  by: Provenance;
  /** What the commit changed within the scope. */
  changes: Change[];
}

function partialMetadata(entries: MetadataEntry[], single: boolean): Metadata {
  return { version: METADATA_VERSION, location: '', host: '', single, entries };
}

/** One commit's changes, content and metadata alike, within the scope. Pure. */
export function commitChanges(commit: Pick<LoggedCommit, 'changes' | 'parents'>, delta: MetadataDelta | undefined, scope: Pick<Scope, 'entry' | 'whole'>, single: boolean): Change[] {
  const content = contentChanges(commit.changes);
  const listed = new Set(content.map((c) => c.path));
  const root = commit.parents.length === 0;
  const metadata = metadataChanges(
    partialMetadata(root ? [] : (delta?.removed ?? []), single),
    partialMetadata(delta?.added ?? [], single),
    listed,
  ).filter((c) => !(root && c.path === './'));
  return [...content, ...metadata].filter((c) => inScope(scope, c.path) || (c.kind === 'R' && c.detail !== undefined && inScope(scope, c.detail)));
}

/** The history of a scope, newest first; `limit` keeps only the newest commits. */
export async function historyOf(scope: Scope, options: { limit?: number } = {}): Promise<HistoryEntry[]> {
  const git = historyGit(scope.tracked);
  if (!(await revParse(git, BRANCH))) return [];
  const [log, metadataLog] = await Promise.all([
    git.raw(['log', '-z', '--root', '--name-status', '-M', '--no-color', `--format=${LOG_FORMAT}`, BRANCH, '--']),
    git.raw(['log', '--root', '-p', '-U0', '--no-renames', '--no-color', '--no-ext-diff', '--no-textconv', '--format=%x1e%H', BRANCH, '--', METADATA_PATH, METADATA_SHARDS_DIR]),
  ]);
  const deltas = parseMetadataLog(metadataLog);
  const entries: HistoryEntry[] = [];
  for (const commit of parseLogNameStatus(log)) {
    const changes = commitChanges(commit, deltas.get(commit.sha), scope, scope.tracked.single);
    if (changes.length === 0 && !scope.whole) continue;
    entries.push({ sha: commit.sha, time: commit.time, subject: commit.subject, by: commit.by, changes });
    if (options.limit !== undefined && entries.length >= options.limit) break;
  }
  return entries;
}
