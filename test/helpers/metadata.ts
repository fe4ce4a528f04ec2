// A commit's or a working copy's metadata as pacha reads it (store/metadata-files.ts): the
// header and every shard beside it, for tests that look at what was recorded.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { METADATA_SHARDS_DIR, parseMetadataFiles } from '../../src/store/metadata-files.js';
import { METADATA_PATH, type Metadata } from '../../src/store/metadata.js';

/** The metadata of `rev` in a git dir. */
export function metadataOfCommit(gitDir: string, rev = 'main'): Metadata {
  const git = (...args: string[]) => execFileSync('git', ['--git-dir', gitDir, ...args]);
  const shards = git('ls-tree', '-r', '--name-only', rev, '--', METADATA_SHARDS_DIR).toString().split('\n').filter(Boolean);
  return parseMetadataFiles(
    git('show', `${rev}:${METADATA_PATH}`),
    shards.map((file) => git('show', `${rev}:${file}`)),
  ) as Metadata;
}

/** The metadata in a working copy (a master's checkout). */
export function metadataOfWorkingCopy(repo: string): Metadata {
  const dir = path.join(repo, METADATA_SHARDS_DIR);
  const shards = existsSync(dir) ? readdirSync(dir).sort().map((name) => readFileSync(path.join(dir, name))) : [];
  return parseMetadataFiles(readFileSync(path.join(repo, METADATA_PATH)), shards) as Metadata;
}
