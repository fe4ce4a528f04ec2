// Pure: each host's row and state from its repositories' refs and the time. No I/O here.
//   empty         the host has no repository on the master
//   never-pushed  repositories exist, none has a commit on main
//   diverged      a repository holds a refs/pacha/diverged/* ref (a push the master refused)
//   stale         the newest heartbeat is older than stale_after, or there is none
//   ok            none of the above
// Only the heartbeat counts for stale: an idle host whose daemon is alive pushes no commit
// but beats, and a host whose daemon died may have pushed a minute before it did.
import type { Provenance } from '../store/provenance.js';
import type { FleetSnapshot, HostRefs, RepoRefs } from './wire.js';

/** Bad news first: the order rows are listed in. */
export const STATES = ['diverged', 'stale', 'never-pushed', 'empty', 'ok'] as const;
export type HostState = (typeof STATES)[number];

export const DAY_MS = 24 * 3600 * 1000;
export const TIMELINE_DAYS = 30;

export interface PathRow {
  name: string;
  /** Committer date of main's newest commit on the master (ISO), the last change that reached it. */
  lastPush: string | null;
  heartbeat: string | null;
  /** Who made main's newest commit. */
  by: Provenance;
  commits24h: number;
  diverged: string[];
}

export interface HostRow {
  host: string;
  state: HostState;
  /** Why the state is not ok, one sentence each. */
  reasons: string[];
  lastPush: string | null;
  heartbeat: string | null;
  /** The instance and boot of the newest heartbeat (else of the newest commit). */
  instance: string | null;
  boot: string | null;
  commits24h: number;
  paths: PathRow[];
  /** Commits per day, oldest first: [0] is 29–30 days ago, [29] the last 24 hours. */
  timeline: number[];
}

const iso = (seconds: number | undefined): string | null => (seconds === undefined ? null : new Date(seconds * 1000).toISOString());

/** "3 h", "2 d", "45 min": an age for people. */
export function formatAge(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

function newest<T>(items: T[], time: (t: T) => number | undefined): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    const t = time(item);
    if (t !== undefined && (best === undefined || t > time(best)!)) best = item;
  }
  return best;
}

function pathRow(repo: RepoRefs, nowMs: number): PathRow {
  return {
    name: repo.name,
    lastPush: iso(repo.main?.time),
    heartbeat: iso(repo.heartbeat?.time),
    by: repo.main?.by ?? {},
    commits24h: repo.times.filter((t) => t * 1000 > nowMs - DAY_MS).length,
    diverged: repo.diverged.map((d) => d.ref),
  };
}

/** Commits per day over the last TIMELINE_DAYS days, oldest first. */
export function timeline(times: number[], nowMs: number): number[] {
  const days = new Array<number>(TIMELINE_DAYS).fill(0);
  for (const t of times) {
    const age = Math.floor((nowMs - t * 1000) / DAY_MS);
    if (age >= 0 && age < TIMELINE_DAYS) days[TIMELINE_DAYS - 1 - age]! += 1;
    else if (age < 0) days[TIMELINE_DAYS - 1]! += 1; // a clock ahead of ours: count it as today
  }
  return days;
}

/** One host's row. */
export function hostRow(refs: HostRefs, nowMs: number, staleAfterMs: number): HostRow {
  const paths = refs.repos.map((r) => pathRow(r, nowMs));
  const lastMain = newest(refs.repos, (r) => r.main?.time);
  const lastBeat = newest(refs.repos, (r) => r.heartbeat?.time);
  const by = lastBeat?.heartbeat?.by ?? lastMain?.main?.by ?? {};
  const reasons: string[] = refs.repos
    .filter((r) => r.unreadable)
    .map((r) => `${r.name}: ${r.why ?? 'git could not read this repository on the master (another owner? run pacha fleet as the account that owns the repositories)'}`);
  let state: HostState = 'ok';
  if (refs.repos.length === 0) {
    state = 'empty';
    reasons.push('no repository on the master (nothing tracked yet)');
  } else if (!lastMain) {
    state = 'never-pushed';
    reasons.push('its repositories exist but nothing was ever pushed to main');
  } else {
    const diverged = paths.filter((p) => p.diverged.length > 0);
    for (const p of diverged) {
      reasons.push(`${p.name}: diverged (${p.diverged.length} saved histor${p.diverged.length === 1 ? 'y' : 'ies'}, newest ${p.diverged.at(-1)})`);
    }
    if (diverged.length > 0) state = 'diverged';
    const beat = lastBeat?.heartbeat?.time;
    if (beat === undefined) {
      reasons.push('no heartbeat ever: is its daemon running?');
      if (state === 'ok') state = 'stale';
    } else if (nowMs - beat * 1000 > staleAfterMs) {
      reasons.push(`no heartbeat for ${formatAge(nowMs - beat * 1000)} (stale after ${formatAge(staleAfterMs)})`);
      if (state === 'ok') state = 'stale';
    }
  }
  return {
    host: refs.host,
    state,
    reasons,
    lastPush: iso(lastMain?.main?.time),
    heartbeat: iso(lastBeat?.heartbeat?.time),
    instance: by.instance ?? null,
    boot: by.boot ?? null,
    commits24h: paths.reduce((sum, p) => sum + p.commits24h, 0),
    paths,
    timeline: timeline(
      refs.repos.flatMap((r) => r.times),
      nowMs,
    ),
  };
}

/** Every host's row, bad news first: by state, then the oldest heartbeat, then by name. */
export function fleetRows(snapshot: FleetSnapshot, nowMs: number, staleAfterMs: number): HostRow[] {
  const rank = (s: HostState): number => STATES.indexOf(s);
  const beat = (r: HostRow): number => (r.heartbeat ? Date.parse(r.heartbeat) : -Infinity);
  return snapshot.hosts
    .map((h) => hostRow(h, nowMs, staleAfterMs))
    .sort((a, b) => rank(a.state) - rank(b.state) || beat(a) - beat(b) || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/** How many hosts are in each state (every state present, 0 when none). */
export function countStates(rows: HostRow[]): Record<HostState, number> {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<HostState, number>;
  for (const r of rows) counts[r.state] += 1;
  return counts;
}

/** 0 when every host is ok (monitoring calls `pacha fleet`), else 1. */
export function fleetExitCode(rows: HostRow[]): 0 | 1 {
  return rows.every((r) => r.state === 'ok') ? 0 : 1;
}
