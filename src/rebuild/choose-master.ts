// Several masters (pacha.host as a list): which one a rebuild takes each path from. Every
// reachable master is asked for the host; for each repository, the one whose history
// contains the others' (compared by commit ancestry, not by dates) wins. Masters whose
// histories diverged from each other: the newest head by commit date wins, and it is said.
// Unreachable masters are skipped and named; none reachable is the first one's error.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isPachaError } from '../errors.js';
import type { HostListing, Master } from '../master/master.js';
import { BRANCH } from '../store/commit.js';
import { gitAt } from '../store/git.js';
import { PUSHED_REF, type Store } from '../store/store.js';

export interface Head {
  index: number;
  sha: string;
  /** Committer time, seconds. */
  time: number;
}

/**
 * Pure: the head whose history contains every other head; else the newest by time
 * (`diverged`). `contains(a, b)`: b is an ancestor of (or equal to) a.
 */
export function newestHistory(heads: readonly Head[], contains: (a: Head, b: Head) => boolean): { head: Head; diverged: boolean } {
  const all = heads.find((a) => heads.every((b) => contains(a, b)));
  if (all) return { head: all, diverged: false };
  return { head: [...heads].sort((a, b) => b.time - a.time || a.index - b.index)[0]!, diverged: true };
}

export interface MasterChoice {
  /** The union of the reachable masters' listings (hook dirs from the first that has the host); undefined: no master has it. */
  listing: HostListing | undefined;
  /** The master each repository is taken from. */
  byRepository: Map<string, Master>;
  /** The master hooks come from: the first reachable one that has the host. */
  first: Master;
  /** The masters that answered (boot retries dropped connections on these only: a dead one was already waited for). */
  reachable: Master[];
  /** One line per decision, for the log and the report. */
  lines: string[];
}

export async function chooseMasters(masters: readonly Master[], host: string): Promise<MasterChoice> {
  const answers = await Promise.all(masters.map((m) => m.describeHost(host).then((listing) => ({ m, listing }), (error: unknown) => ({ m, error }))));
  const lines: string[] = [];
  const reachable = answers.flatMap((a) => ('error' in a ? [] : [a]));
  for (const a of answers) {
    if ('error' in a) lines.push(`${a.m.label}: unreachable (${isPachaError(a.error) ? a.error.message : String(a.error)}); skipped`);
  }
  if (reachable.length === 0) throw (answers[0] as { error: unknown }).error;
  const having = reachable.filter((a) => a.listing !== undefined) as Array<{ m: Master; listing: HostListing }>;
  const byRepository = new Map<string, Master>();
  if (having.length === 0) return { listing: undefined, byRepository, first: reachable[0]!.m, reachable: reachable.map((a) => a.m), lines };

  const names = [...new Set(having.flatMap((a) => a.listing.repositories))].sort();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'pacha-choose-'));
  try {
    const git = gitAt({ gitDir: scratch });
    await git.raw(['init', '-q', '--bare']);
    for (const name of names) {
      const candidates = having.filter((a) => a.listing.repositories.includes(name));
      if (candidates.length === 1) {
        byRepository.set(name, candidates[0]!.m);
        continue;
      }
      const heads: Head[] = [];
      for (const [index, c] of candidates.entries()) {
        const ref = `refs/choose/${index}`;
        // Fetched into one repository: the second master sends only what the first did not.
        const fetched = await gitAt({ gitDir: scratch, env: c.m.gitEnv() })
          .raw(['fetch', '-q', '--no-tags', c.m.repositoryUrl(host, name), `+${BRANCH}:${ref}`])
          .then(() => true, () => false);
        if (!fetched) continue;
        const [sha, time] = (await git.raw(['log', '-1', '--format=%H %ct', ref])).trim().split(' ');
        heads.push({ index, sha: sha!, time: Number(time) });
      }
      if (heads.length === 0) {
        byRepository.set(name, candidates[0]!.m);
        continue;
      }
      const contains = new Map<string, boolean>();
      for (const a of heads) {
        for (const b of heads) {
          contains.set(`${a.index}:${b.index}`, a.sha === b.sha || (await git.raw(['merge-base', '--is-ancestor', b.sha, a.sha]).then(() => true, () => false)));
        }
      }
      const { head, diverged } = newestHistory(heads, (a, b) => contains.get(`${a.index}:${b.index}`)!);
      const chosen = candidates[head.index]!.m;
      byRepository.set(name, chosen);
      const behind = heads.filter((h) => h.sha !== head.sha).map((h) => candidates[h.index]!.m.label);
      if (diverged) lines.push(`${name}: from ${chosen.label}: the masters' histories diverged; its head is the newest (${behind.join(', ')} differ)`);
      else if (behind.length > 0) lines.push(`${name}: from ${chosen.label}, the newest history (${behind.join(', ')} behind)`);
      else lines.push(`${name}: from ${chosen.label} (every master has the same history)`);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const first = having[0]!;
  const listing: HostListing = {
    host,
    repositories: names,
    hasPreHooks: first.listing.hasPreHooks,
    hasPostHooks: first.listing.hasPostHooks,
  };
  return { listing, byRepository, first: first.m, reachable: reachable.map((a) => a.m), lines };
}

/** The host across every master; with one master, just its listing (no comparison, no fetch). */
export async function describeAcross(primary: Master, others: readonly Master[], host: string): Promise<MasterChoice> {
  if (others.length === 0) return { listing: await primary.describeHost(host), byRepository: new Map(), first: primary, reachable: [primary], lines: [] };
  return chooseMasters([primary, ...others], host);
}

/**
 * After a rebuild took paths from another master than the primary (`adopted`: the
 * repositories it registered on the master's history): the primary's acknowledged ref (which the rebuild set to the head) is dropped, so the next push sends
 * the primary what it lacks. Returns the locations it applies to.
 */
export async function forgetPrimaryAcknowledgement(store: Store, choice: MasterChoice, primary: Master, adopted: readonly string[]): Promise<string[]> {
  const done: string[] = [];
  for (const tracked of await store.list()) {
    if (!adopted.includes(tracked.name)) continue;
    const from = choice.byRepository.get(tracked.name);
    if (!from || from === primary) continue;
    await store.git(tracked).raw(['update-ref', '-d', PUSHED_REF]);
    done.push(tracked.location);
  }
  return done;
}
