// `pacha fleet` on an S3 master: no script can run where the hosts live, so the fleet is read
// from the pointers alone: PREFIX/<host>/<name>/pointer.json holds every ref, and, per ref,
// its commit's time and trailers (stamps) and main's recent commit times, written by each
// push (repository.ts). The answer has the SSH master's shape (fleet/snapshot.ts); which
// state a host is in is decided by fleet/state.ts for both.
import { checkHostName } from '../../config/values.js';
import { byteOrder } from '../../fs/byte-order.js';
import type { FleetSnapshot, HostRefs, RepoRefs } from '../../fleet/snapshot.js';
import { placeRef } from '../../fleet/wire.js';
import { parseTrailerLines } from '../../store/provenance.js';
import { isHookDirName, repositoryNameProblem } from '../layout.js';
import type { Bucket } from './bucket.js';
import { hostPrefix, parsePointer, POINTER, type Pointer } from './pointer.js';

/** Pointers read at once (each one small GET). */
const PARALLEL_READS = 16;

/**
 * Pure: one repository's refs as the fleet reads them. A ref pushed before pointers carried
 * stamps is dated by the pointer's own time (when it was last written: never earlier than the
 * ref's commit), and has no provenance.
 */
export function repoRefsFromPointer(name: string, pointer: Pointer, sinceSeconds: number): RepoRefs {
  const repo: RepoRefs = { name, diverged: [], times: (pointer.mainTimes ?? []).filter((t) => t >= sinceSeconds) };
  const written = Date.parse(pointer.time) / 1000;
  for (const ref of Object.keys(pointer.refs).sort(byteOrder)) {
    const stamp = pointer.stamps?.[ref];
    const entry = placeRef(repo, ref, stamp?.time ?? (Number.isFinite(written) ? Math.floor(written) : 0));
    if (entry && stamp) entry.by = parseTrailerLines(stamp.trailers);
  }
  if (repo.times.length === 0 && repo.main && !pointer.mainTimes && repo.main.time >= sinceSeconds) repo.times = [repo.main.time];
  return repo;
}

async function inParallel<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Every host under `prefix` and its repositories' refs, read from their pointers. */
export async function readS3Fleet(bucket: Bucket, prefix: string, hosts: string[], sinceSeconds: number): Promise<FleetSnapshot> {
  const valid = hosts.filter((h) => !checkHostName(h));
  const listings = await inParallel(valid, PARALLEL_READS, async (host) => ({ host, listing: await bucket.list(hostPrefix(prefix, host)) }));
  const wanted = listings.flatMap(({ host, listing }) =>
    listing.folders.filter((name) => !isHookDirName(name) && !repositoryNameProblem(name)).map((name) => ({ host, name })),
  );
  const repos = await inParallel(wanted, PARALLEL_READS, async ({ host, name }): Promise<{ host: string; repo?: RepoRefs }> => {
    const key = `${hostPrefix(prefix, host)}${name}/${POINTER}`;
    const read = await bucket.readText(key);
    if (!read) return { host }; // a folder without a pointer (bundles left by a push that lost, or never swapped): no repository yet
    try {
      return { host, repo: repoRefsFromPointer(name, parsePointer(read.text, `s3://${bucket.name}/${key}`), sinceSeconds) };
    } catch (error) {
      return { host, repo: { name, diverged: [], times: [], unreadable: true, why: `${(error as Error).message}: not a pointer pacha wrote (restore it from the bucket's versions)` } };
    }
  });
  const byHost = new Map<string, HostRefs>(valid.map((host) => [host, { host, repos: [] }]));
  for (const { host, repo } of repos) if (repo) byHost.get(host)!.repos.push(repo);
  return { masterTime: 0, hosts: [...byHost.values()] };
}
