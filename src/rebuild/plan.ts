// Deciding a rebuild, per repository: for every entry, what placing it would do. Pure:
// everything it needs was read beforehand (inspect.ts, owners.ts), so `--dry-run` prints
// exactly what a real run would do, and nothing here can touch the system.
import path from 'node:path';
import { entryLocation } from '../fs/entry.js';
import { isPachaTemp, TEMP_NAME_LENGTH } from '../fs/temp-name.js';
import { deviceNumbers } from '../store/capture.js';
import { sameXattrs } from '../store/xattrs.js';
import { SKIPPED_TYPES, type EntryType, type Metadata, type MetadataEntry } from '../store/metadata.js';
import type { StagedFile, TargetFacts, TargetInspection } from './inspect.js';
import type { OwnerNotFound, ResolvedOwner } from './owners.js';

export type PlanAction = 'create' | 'replace' | 'update-metadata' | 'unchanged' | 'skip';
export const PLAN_ACTIONS: readonly PlanAction[] = ['create', 'replace', 'update-metadata', 'unchanged', 'skip'];

export interface PlannedEntry {
  path: string;
  type: EntryType;
  action: PlanAction;
  /** Why it is not unchanged, for people: "content differs", "mode 0644 → 0600" … */
  reason?: string;
  mode: number;
  uid: number;
  gid: number;
  /** Symlinks: the target to create. */
  linkTarget?: string;
  /** Hard links: the entry (the first of the link group) this one is a link to. */
  linkTo?: string;
  /** Character and block devices: the device numbers. */
  device?: { major: number; minor: number };
  /** Extended attributes to set (ACLs, capabilities …). */
  xattrs?: Record<string, string>;
  /** The parent directory gets a default ACL: a new entry would inherit an ACL it did not have. */
  inheritsAcl?: boolean;
  /** Files: the staged copy and its size. */
  source?: string;
  size: number;
  /** What the target holds now (what a create/replace displaces). */
  current: TargetFacts;
}

export interface Refusal {
  path: string;
  reason: string;
}

export interface Plan {
  repository: string;
  /** The tracked path on the host (metadata.location). */
  location: string;
  single: boolean;
  /** The directory entries are placed under: root + location (its directory for a single file). */
  targetRoot: string;
  /** The same directory as the host sees it (without --root): where backups are filed. */
  hostRoot: string;
  rootState: TargetInspection['root'];
  entries: PlannedEntry[];
  ownersNotFound: OwnerNotFound[];
  /** In the target but not in the repository: listed, left alone. */
  extras: string[];
  /** pacha's own temporary files (`.pacha-tmp-*`) left in the target by an interrupted run: removed when placing. */
  leftovers: string[];
  /** Anything here means the repository must not be placed at all. */
  refused: Refusal[];
  counts: Record<PlanAction, number>;
  /** Sum of the staged files' sizes. */
  bytes: number;
}

export interface PlanInput {
  repository: string;
  metadata: Metadata;
  /** '/' normally, or the --root DIR. */
  root: string;
  staged: Map<string, StagedFile>;
  target: TargetInspection;
  owners: { owners: Map<string, ResolvedOwner>; notFound: OwnerNotFound[] };
  /** Where this repository's displaced entries would be kept: its paths must fit as well. */
  backupRoot?: string;
  /**
   * Only part of the tree is planned (a rollback of one entry): a file's other names may be
   * entries outside it, so its link count is not judged (a group's first member, linked to a
   * member outside the scope, must stay as it is).
   */
  partial?: boolean;
}

/** Linux's limits: a path handed to a system call (with its NUL) and one name in it, in bytes. */
export const PATH_MAX = 4096;
export const NAME_MAX = 255;
const SHOWN_LIMIT_REFUSALS = 5;

/**
 * Whether an entry can be placed at all: every name within NAME_MAX, and its target path,
 * the temporary file beside it and its backup within PATH_MAX. Checked while planning, so a
 * path too deep or too long refuses the rebuild before anything is touched. `targetRoot` is
 * normalized (targetRootOf), `entryPath` a validated entry path. Pure.
 */
export function checkPathLimits(targetRoot: string, entryPath: string, backupRoot?: string): string | undefined {
  const bytes = (s: string): number => Buffer.byteLength(s);
  const long = entryPath.split('/').find((name) => bytes(name) > NAME_MAX);
  if (long !== undefined) return `a name of ${bytes(long)} bytes is longer than the ${NAME_MAX} a file system allows`;
  const target = entryLocation(targetRoot, entryPath);
  // The temporary file beside it: its directory, '/', a name of TEMP_NAME_LENGTH bytes.
  const temp = bytes(target) - bytes(target.slice(target.lastIndexOf('/') + 1)) + TEMP_NAME_LENGTH;
  const longest = Math.max(bytes(target), temp, backupRoot ? bytes(entryLocation(backupRoot, entryPath)) : 0);
  if (longest >= PATH_MAX) {
    const depth = entryPath.split('/').length;
    return `the path (${depth} levels deep) would be ${longest} bytes long with its temporary file or backup; Linux allows ${PATH_MAX - 1}`;
  }
  return undefined;
}

/** The directory a repository's entries live in on the host: the location, or its directory for a single file. */
export function hostRootOf(metadata: Metadata): string {
  return metadata.single ? path.posix.dirname(metadata.location) : metadata.location;
}

/** Where a repository's entries are placed: `path.join(root, …)` of the host root. */
export function targetRootOf(metadata: Metadata, root: string): string {
  return path.join(root, hostRootOf(metadata));
}

const octal = (mode: number): string => `0${mode.toString(8).padStart(3, '0')}`;

/**
 * Decide one entry; a string result is a refusal. `links`, for a file that is no other's hard
 * link (linkNames): how many names its current inode may have (undefined: not judged), and
 * whether an entry the repository keeps apart is that inode too. A file with any name beyond
 * its own group's is replaced, never left or chmod'ed: the other name (an extra, a file outside
 * the tracked path, another entry) would share its content and mode.
 */
function decide(
  entry: MetadataEntry,
  current: TargetFacts,
  owner: ResolvedOwner,
  staged: StagedFile | undefined,
  links: LinkNames,
): { action: PlanAction; reason?: string } | string {
  if (SKIPPED_TYPES.has(entry.type)) {
    return { action: 'skip', reason: entry.type === 'socket' ? 'socket: made by the program that listens on it, never restored' : 'special file recorded by an older pacha: not restored' };
  }
  if (current.kind === 'blocked') {
    return `${JSON.stringify(current.symlink)} in the target is a symlink; pacha never writes through a symlinked directory`;
  }
  if (current.kind === 'absent') return { action: 'create', reason: 'absent' };
  if (current.type === 'symlink' && entry.type === 'directory') {
    return 'the target has a symlink where the repository has a directory; pacha does not replace or write through it';
  }
  if (current.type !== entry.type) return { action: 'replace', reason: `${current.type} in the target` };
  if (entry.type === 'file' && !(current.size === staged?.size && current.sameContent === true)) {
    return { action: 'replace', reason: 'content differs' };
  }
  if (entry.type === 'file' && links.sharedApart) return { action: 'replace', reason: 'one file in the target with an entry the repository keeps apart' };
  if (entry.type === 'file' && links.names !== undefined && current.nlink !== links.names) return { action: 'replace', reason: 'hard-linked to a name the repository does not link it to' };
  if (entry.type === 'symlink' && current.linkTarget !== entry.target) return { action: 'replace', reason: 'link target differs' };
  if (entry.device) {
    const now = deviceNumbers(current.rdev);
    if (now.major !== entry.device.major || now.minor !== entry.device.minor) return { action: 'replace', reason: 'device numbers differ' };
  }
  const differences: string[] = [];
  // A symlink's own mode is always 0777 on Linux and cannot be changed: compare owners only.
  if (entry.type !== 'symlink' && current.mode !== entry.mode) differences.push(`mode ${octal(current.mode)} → ${octal(entry.mode)}`);
  if (current.uid !== owner.uid || current.gid !== owner.gid) {
    differences.push(`owner ${current.uid}:${current.gid} → ${owner.uid}:${owner.gid}`);
  }
  if (current.xattrs !== undefined && !sameXattrs(entry.xattrs, current.xattrs)) differences.push('extended attributes differ');
  return differences.length ? { action: 'update-metadata', reason: differences.join(', ') } : { action: 'unchanged' };
}

/**
 * A hard link (not the first of its group): unchanged only when it is already the same
 * inode as its first member and that one stays; else made again as a link to it.
 */
function decideLink(entry: MetadataEntry, current: TargetFacts, leader: PlannedEntry | undefined): { action: PlanAction; reason?: string } | string {
  if (!leader) return `hard link to ${JSON.stringify(entry.hardlink)}, which is not placed`;
  if (current.kind === 'blocked') return `${JSON.stringify(current.symlink)} in the target is a symlink; pacha never writes through a symlinked directory`;
  const reason = `hard link to ${leader.path}`;
  if (current.kind === 'absent') return { action: 'create', reason };
  const kept = leader.action === 'unchanged' || leader.action === 'update-metadata';
  const same = leader.current.kind === 'present' && current.type === 'file' && current.dev === leader.current.dev && current.ino === leader.current.ino;
  return kept && same ? { action: 'unchanged' } : { action: 'replace', reason };
}

interface LinkNames {
  /** How many names the file's inode may have: itself and its group's members that are it (undefined: not judged). */
  names: number | undefined;
  /** Another entry planned, of another link group, is the same inode. */
  sharedApart: boolean;
}

/**
 * What decide needs to judge a file's hard links, for each entry that is no other's link.
 * Both names of an inode that two link groups share are replaced, not one: the one kept would
 * stay linked to the other's old inode, moved to the backups. Where only part of the tree is
 * planned (`partial`), names are not counted: a group's other members may be outside it.
 * Pure.
 */
function linkNames(entries: readonly MetadataEntry[], facts: ReadonlyMap<string, TargetFacts>, partial: boolean): (entry: MetadataEntry) => LinkNames {
  const inodeOf = (p: string): string | undefined => {
    const current = facts.get(p);
    return current?.kind === 'present' && current.type === 'file' ? `${current.dev}:${current.ino}` : undefined;
  };
  const groups = new Map<string, Set<string>>();
  const members = new Map<string, string[]>();
  for (const entry of entries) {
    if (entry.type !== 'file') continue;
    const group = entry.hardlink ?? entry.path;
    if (entry.hardlink !== undefined) {
      const list = members.get(group);
      if (list) list.push(entry.path);
      else members.set(group, [entry.path]);
    }
    const inode = inodeOf(entry.path);
    if (inode === undefined) continue;
    const at = groups.get(inode);
    if (at) at.add(group);
    else groups.set(inode, new Set([group]));
  }
  return (entry) => {
    const inode = inodeOf(entry.path);
    if (inode === undefined) return { names: undefined, sharedApart: false };
    const own = (members.get(entry.path) ?? []).filter((p) => inodeOf(p) === inode).length;
    return { names: partial ? undefined : 1 + own, sharedApart: (groups.get(inode)?.size ?? 0) > 1 };
  };
}

/** The plan of one repository. */
export function planRepository(input: PlanInput): Plan {
  const { repository, metadata, root, staged, target, owners } = input;
  const targetRoot = targetRootOf(metadata, root);
  const refused: Refusal[] = [];
  if (target.root !== 'absent' && target.root !== 'directory') {
    refused.push({ path: '.', reason: `the target ${targetRoot} is a ${target.root}, not a directory; move it aside first` });
  }
  const entries: PlannedEntry[] = [];
  const counts = Object.fromEntries(PLAN_ACTIONS.map((a) => [a, 0])) as Record<PlanAction, number>;
  let bytes = 0;
  const planned = new Map<string, PlannedEntry>();
  const linksOf = linkNames(metadata.entries, target.facts, input.partial === true);
  let limited = 0;
  for (const entry of metadata.entries) {
    const tooLong = checkPathLimits(targetRoot, entry.path, input.backupRoot);
    if (tooLong) {
      // A deep tree has thousands of these: the first few say it.
      if (++limited <= SHOWN_LIMIT_REFUSALS) refused.push({ path: entry.path.length > 120 ? `${entry.path.slice(0, 60)}…${entry.path.slice(-40)}` : entry.path, reason: tooLong });
      continue;
    }
    const current = target.facts.get(entry.path) ?? { kind: 'absent' };
    const owner = owners.owners.get(entry.path) ?? { uid: entry.user.id, gid: entry.group.id };
    const file = staged.get(entry.path);
    // Metadata is sorted: a link group's first member is planned before the others.
    const decision = entry.hardlink === undefined ? decide(entry, current, owner, file, linksOf(entry)) : decideLink(entry, current, planned.get(entry.hardlink));
    if (typeof decision === 'string') {
      refused.push({ path: entry.path, reason: decision });
      continue;
    }
    const one: PlannedEntry = {
      path: entry.path,
      type: entry.type,
      action: decision.action,
      mode: entry.mode,
      uid: owner.uid,
      gid: owner.gid,
      size: entry.hardlink === undefined ? (file?.size ?? 0) : 0,
      current,
    };
    if (decision.reason !== undefined) one.reason = decision.reason;
    if (entry.type === 'symlink' && entry.target !== undefined) one.linkTarget = entry.target;
    if (entry.hardlink !== undefined) one.linkTo = entry.hardlink;
    if (entry.device) one.device = entry.device;
    if (entry.xattrs) one.xattrs = entry.xattrs;
    const parent = entry.path === '.' ? undefined : planned.get(path.posix.dirname(entry.path));
    if (parent?.xattrs?.['system.posix_acl_default'] !== undefined) one.inheritsAcl = true;
    if (file && entry.hardlink === undefined) one.source = file.source;
    counts[one.action]++;
    bytes += one.size;
    entries.push(one);
    planned.set(one.path, one);
  }
  if (limited > SHOWN_LIMIT_REFUSALS) refused.push({ path: '…', reason: `and ${limited - SHOWN_LIMIT_REFUSALS} more entries beyond the path length limits` });
  return {
    repository,
    location: metadata.location,
    single: metadata.single,
    targetRoot,
    hostRoot: hostRootOf(metadata),
    rootState: target.root,
    entries,
    ownersNotFound: owners.notFound,
    extras: target.extras.filter((p) => !isPachaTemp(path.posix.basename(p))),
    leftovers: target.extras.filter((p) => isPachaTemp(path.posix.basename(p))),
    refused,
    counts,
    bytes,
  };
}
