// The layout of an S3 master and its pointer objects. Pure.
//   PREFIX/<host>/.pacha-host                     marks a host (pacha add-host)
//   PREFIX/<host>/<name>/pointer.json             the refs, the bundle chain, who wrote it when
//   PREFIX/<host>/<name>/bundles/<sha256>.bundle  immutable git bundles, each incremental
//   PREFIX/<host>/pacha_pre/*, pacha_post/*       hooks (objects; see hooks.ts)
// The pointer is the only object ever replaced, and only by compare-and-swap on its ETag:
// whoever swaps it first wins; the other sees a conflict and starts again from the new one.
import { checkComponent } from '../layout.js';

export const POINTER = 'pointer.json';
export const HOST_MARKER = '.pacha-host';
export const POINTER_VERSION = 1;

export interface ChainLink {
  /** bundles/<sha256 of the file>.bundle, relative to the repository's prefix. */
  key: string;
  size: number;
  /** Commits the bundle brings (its refs' targets): a reader that has them all skips it. */
  tips: string[];
}

/** What `pacha fleet` needs of a ref without git: its commit's committer date and trailers. */
export interface RefStamp {
  /** Committer date, unix seconds. */
  time: number;
  /** The commit's trailer lines ("Key: value"), as git prints them unfolded. */
  trailers: string[];
}

/** Most of main's commit times a pointer keeps (its last 30 days): the fleet's timeline. */
export const MAX_MAIN_TIMES = 2000;
export const MAIN_TIMES_DAYS = 30;
const MAIN_REF = 'refs/heads/main';

export interface Pointer {
  version: number;
  /** Every ref of the repository: refs/heads/main, refs/pacha/heartbeat, refs/pacha/diverged/… */
  refs: Record<string, string>;
  /** Oldest first: applying them in order brings every object the refs need. */
  chain: ChainLink[];
  /** When and by whom this version was written (an ISO time, an instance id or host name). */
  time: string;
  instance: string;
  /** Per ref, its commit's time and trailers (written since the fleet read S3; older pointers lack it). */
  stamps?: Record<string, RefStamp>;
  /** Committer dates of main's commits of the last MAIN_TIMES_DAYS days, newest first, unix seconds. */
  mainTimes?: number[];
}

export function emptyPointer(): Pointer {
  return { version: POINTER_VERSION, refs: {}, chain: [], time: '', instance: '' };
}

const SHA = /^[0-9a-f]{40}$/;
const REF = /^refs\/[A-Za-z0-9._/-]+$/;
const BUNDLE_KEY = /^bundles\/[0-9a-f]{64}\.bundle$/;

/** A pointer read from the bucket, checked field by field: a malformed one is never trusted. */
export function parsePointer(text: string, where: string): Pointer {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not JSON`);
  }
  const p = raw as Partial<Pointer>;
  if (!p || typeof p !== 'object' || p.version !== POINTER_VERSION) throw new Error(`${where} is not a pacha pointer of version ${POINTER_VERSION}`);
  const refs: Record<string, string> = {};
  for (const [ref, sha] of Object.entries(p.refs ?? {})) {
    if (!REF.test(ref) || ref.includes('..') || typeof sha !== 'string' || !SHA.test(sha)) throw new Error(`${where} has a bad ref ${JSON.stringify(ref)}`);
    refs[ref] = sha;
  }
  const chain = (Array.isArray(p.chain) ? p.chain : []).map((link) => {
    if (!link || !BUNDLE_KEY.test(String(link.key)) || !Array.isArray(link.tips) || !link.tips.every((t) => SHA.test(String(t)))) {
      throw new Error(`${where} has a bad bundle entry`);
    }
    return { key: link.key, size: Number(link.size) || 0, tips: link.tips };
  });
  const pointer: Pointer = { version: POINTER_VERSION, refs, chain, time: String(p.time ?? ''), instance: String(p.instance ?? '') };
  if (p.stamps && typeof p.stamps === 'object') {
    pointer.stamps = {};
    for (const [ref, stamp] of Object.entries(p.stamps)) {
      if (!(ref in refs) || !stamp || !Number.isFinite(stamp.time)) continue; // a stamp of no ref, or a bad one, is ignored
      pointer.stamps[ref] = { time: Number(stamp.time), trailers: (Array.isArray(stamp.trailers) ? stamp.trailers : []).map(String) };
    }
  }
  if (Array.isArray(p.mainTimes)) pointer.mainTimes = p.mainTimes.map(Number).filter(Number.isFinite).slice(0, MAX_MAIN_TIMES);
  return pointer;
}

export function serializePointer(pointer: Pointer): string {
  return `${JSON.stringify(pointer, null, 1)}\n`;
}

/** PREFIX/<host>/ (with the trailing slash). */
export function hostPrefix(prefix: string, host: string): string {
  return `${prefix ? `${prefix}/` : ''}${checkComponent('host', host)}/`;
}

/** PREFIX/<host>/<name>/ */
export function repositoryPrefix(prefix: string, host: string, name: string): string {
  return `${hostPrefix(prefix, host)}${checkComponent('repository', name)}/`;
}

/** Whether the chain is long enough to be replaced by one full bundle. */
export function needsCompaction(pointer: Pointer, bound: number): boolean {
  return pointer.chain.length > bound;
}

/** The pointer after a push: refs updated (undefined deletes), the new bundle appended. */
export function advancePointer(
  pointer: Pointer,
  updates: Record<string, string | undefined>,
  link: ChainLink | undefined,
  by: { time: string; instance: string },
  stamped: { stamps: Record<string, RefStamp>; newMainTimes: number[] } = { stamps: {}, newMainTimes: [] },
): Pointer {
  const refs = { ...pointer.refs };
  const stamps = { ...pointer.stamps };
  for (const [ref, sha] of Object.entries(updates)) {
    delete stamps[ref];
    if (sha === undefined) delete refs[ref];
    else refs[ref] = sha;
    const stamp = stamped.stamps[ref];
    if (sha !== undefined && stamp) stamps[ref] = stamp;
  }
  const since = Date.parse(by.time) / 1000 - MAIN_TIMES_DAYS * 86400;
  const mainTimes = MAIN_REF in updates ? mergeTimes(stamped.newMainTimes, pointer.mainTimes ?? [], since) : pointer.mainTimes;
  return {
    version: POINTER_VERSION,
    refs,
    chain: link ? [...pointer.chain, link] : pointer.chain,
    time: by.time,
    instance: by.instance,
    ...(Object.keys(stamps).length > 0 ? { stamps } : {}),
    ...(mainTimes && mainTimes.length > 0 ? { mainTimes } : {}),
  };
}

/** Newest first, none before `since` (unix seconds), at most MAX_MAIN_TIMES. */
function mergeTimes(added: number[], kept: number[], since: number): number[] {
  return [...added, ...kept]
    .filter((t) => !(t < since))
    .sort((a, b) => b - a)
    .slice(0, MAX_MAIN_TIMES);
}
