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

export interface Pointer {
  version: number;
  /** Every ref of the repository: refs/heads/main, refs/pacha/heartbeat, refs/pacha/diverged/… */
  refs: Record<string, string>;
  /** Oldest first: applying them in order brings every object the refs need. */
  chain: ChainLink[];
  /** When and by whom this version was written (an ISO time, an instance id or host name). */
  time: string;
  instance: string;
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
  return { version: POINTER_VERSION, refs, chain, time: String(p.time ?? ''), instance: String(p.instance ?? '') };
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
): Pointer {
  const refs = { ...pointer.refs };
  for (const [ref, sha] of Object.entries(updates)) {
    if (sha === undefined) delete refs[ref];
    else refs[ref] = sha;
  }
  return { version: POINTER_VERSION, refs, chain: link ? [...pointer.chain, link] : pointer.chain, time: by.time, instance: by.instance };
}
