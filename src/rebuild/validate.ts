// A repository's `.pacha/metadata.json` comes from the master: it is untrusted input.
// Before anything is planned or placed, refuse every path that could escape the tracked
// path or write through a symlink, and every value that would make chmod/chown lie.
// Pure: no filesystem access.
import path from 'node:path';
import { OperationError } from '../errors.js';
import { ENTRY_TYPES as TYPES, METADATA_VERSION, READABLE_VERSIONS, type EntryType, type Metadata, type MetadataEntry, type Owner } from '../store/metadata.js';
import { byteOrder } from '../fs/byte-order.js';
import { isCanonicalName } from '../fs/names.js';
import { VOLATILE_ROOTS } from '../store/trackable.js';

const ENTRY_TYPES: ReadonlySet<string> = new Set<EntryType>(TYPES);
/** Linux's dev_t is 64 bits: a major and a minor of up to 32 bits each. */
const MAX_DEVICE_PART = 0xffffffff;
/** Largest uid/gid Linux accepts ((uid_t)-1 means "unchanged" to chown). */
const MAX_ID = 0xfffffffe;

function refuse(repository: string, offending: string, why: string): never {
  throw new OperationError('EUNSAFE', `repository "${repository}": refused ${JSON.stringify(offending)}: ${why}`, {
    hint: `The metadata of "${repository}" on the master is unsafe or damaged; nothing was touched. Inspect .pacha/metadata.json in that repository on the master and fix or remove it.`,
    details: { repository, path: offending },
  });
}

function malformed(repository: string, why: string): never {
  throw new OperationError('EMETADATA', `repository "${repository}": .pacha/metadata.json is malformed: ${why}`, {
    hint: `Check .pacha/metadata.json in "${repository}" on the master: it should be pacha's metadata, format version ${METADATA_VERSION}.`,
    details: { repository },
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a location is unsafe, or undefined when it is an absolute, normalized path. */
function locationProblem(location: string): string | undefined {
  if (location.includes('\0')) return 'contains a NUL byte';
  if (!isCanonicalName(location)) return 'is not a byte string pacha writes';
  if (!path.posix.isAbsolute(location)) return 'is not an absolute path';
  if (location.split('/').includes('..')) return "contains '..'";
  if (path.posix.normalize(location) !== location || (location !== '/' && location.endsWith('/'))) {
    return 'is not a normalized path';
  }
  return undefined;
}

/** Why an entry path is unsafe, or undefined when it is a clean relative path ('.' = the root). */
function entryPathProblem(entryPath: string): string | undefined {
  if (entryPath === '.') return undefined;
  if (entryPath.includes('\0')) return 'contains a NUL byte';
  // A backslash is an ordinary byte in a Linux name (systemd's escaped unit names).
  if (!isCanonicalName(entryPath)) return 'is not a byte string pacha writes (two spellings of one name)';
  if (entryPath.startsWith('/')) return 'is absolute';
  for (const part of entryPath.split('/')) {
    if (part === '..') return "contains '..'";
    if (part === '') return 'has an empty component';
    if (part === '.') return "has a '.' component";
  }
  return undefined;
}

function checkOwner(repository: string, entryPath: string, which: 'user' | 'group', value: unknown): Owner {
  if (!isRecord(value)) return refuse(repository, entryPath, `${which} is missing`);
  const { id, name } = value;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_ID) {
    return refuse(repository, entryPath, `${which} id ${JSON.stringify(id)} is not a valid id`);
  }
  if (name !== undefined && (typeof name !== 'string' || name === '' || /[:\n\0]/.test(name))) {
    return refuse(repository, entryPath, `${which} name ${JSON.stringify(name)} is not a valid name`);
  }
  return name === undefined ? { id } : { id, name };
}

function checkEntry(repository: string, raw: unknown, index: number): MetadataEntry {
  if (!isRecord(raw)) return malformed(repository, `entry ${index} is not an object`);
  const entryPath = raw.path;
  if (typeof entryPath !== 'string') return malformed(repository, `entry ${index} has no path`);
  const problem = entryPathProblem(entryPath);
  if (problem) refuse(repository, entryPath, `entry path ${problem}`);
  const type = raw.type;
  if (typeof type !== 'string' || !ENTRY_TYPES.has(type)) {
    refuse(repository, entryPath, `unknown entry type ${JSON.stringify(type)}`);
  }
  const mode = raw.mode;
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    refuse(repository, entryPath, `mode ${JSON.stringify(mode)} is outside 0..07777`);
  }
  const entry: MetadataEntry = {
    path: entryPath,
    type: type as EntryType,
    mode,
    user: checkOwner(repository, entryPath, 'user', raw.user),
    group: checkOwner(repository, entryPath, 'group', raw.group),
  };
  if (type === 'symlink') {
    const target = raw.target;
    if (typeof target !== 'string' || target === '' || target.includes('\0') || !isCanonicalName(target)) {
      refuse(repository, entryPath, 'symlink without a valid target');
    }
    entry.target = target;
  }
  if (raw.hardlink !== undefined) {
    if (type !== 'file' || typeof raw.hardlink !== 'string' || entryPathProblem(raw.hardlink) || raw.hardlink === '.') {
      refuse(repository, entryPath, `hard link ${JSON.stringify(raw.hardlink)} is not a file path`);
    }
    entry.hardlink = raw.hardlink;
  }
  if (type === 'char' || type === 'block') {
    const device = raw.device;
    const part = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_DEVICE_PART;
    if (!isRecord(device) || !part(device.major) || !part(device.minor)) refuse(repository, entryPath, 'device without valid major and minor numbers');
    entry.device = { major: device.major as number, minor: device.minor as number };
  }
  if (raw.xattrs !== undefined) {
    const xattrs = raw.xattrs;
    if (!isRecord(xattrs)) refuse(repository, entryPath, 'xattrs is not a map of names to values');
    for (const [name, value] of Object.entries(xattrs)) {
      if (!/^(user|trusted|security|system)\.[^\0\n]{1,250}$/.test(name) || typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
        refuse(repository, entryPath, `extended attribute ${JSON.stringify(name)} is not a valid name and base64 value`);
      }
    }
    entry.xattrs = xattrs as Record<string, string>;
  }
  if (raw.size !== undefined) {
    if (typeof raw.size !== 'number' || !Number.isSafeInteger(raw.size) || raw.size < 0) {
      refuse(repository, entryPath, `size ${JSON.stringify(raw.size)} is not a valid size`);
    }
    entry.size = raw.size;
  }
  return entry;
}

/**
 * Check metadata read from a repository and return it typed. Throws OperationError
 * EUNSAFE (exit 1) naming the repository and the offending path for anything that could
 * escape the tracked path, and EMETADATA when the document is not metadata at all.
 */
export function validateMetadata(metadata: unknown, repositoryName: string): Metadata {
  const repository = repositoryName;
  if (!isRecord(metadata)) return malformed(repository, 'not a JSON object');
  if (typeof metadata.version !== 'number' || !READABLE_VERSIONS.includes(metadata.version)) {
    return malformed(repository, `unsupported version ${JSON.stringify(metadata.version)} (this pacha reads versions ${READABLE_VERSIONS.join(', ')})`);
  }
  const { location, host, single, entries: rawEntries } = metadata;
  if (typeof location !== 'string') return malformed(repository, 'location is missing');
  const locationWhy = locationProblem(location);
  if (locationWhy) refuse(repository, location, `location ${locationWhy}`);
  const volatile = VOLATILE_ROOTS.find((root) => location === root || location.startsWith(`${root}/`));
  if (location === '/' || volatile) refuse(repository, location, `location ${volatile ? `is on ${volatile}` : 'is /'}: pacha never tracks it`);
  const ignore = metadata.ignore;
  if (ignore !== undefined && (!Array.isArray(ignore) || !ignore.every((p) => typeof p === 'string' && !p.includes('\0')))) {
    return malformed(repository, 'ignore is not a list of patterns');
  }
  if (typeof host !== 'string') return malformed(repository, 'host is missing');
  if (typeof single !== 'boolean') return malformed(repository, 'single is missing');
  if (!Array.isArray(rawEntries)) return malformed(repository, 'entries is not a list');

  const entries = rawEntries.map((raw, index) => checkEntry(repository, raw, index));
  const byPath = new Map<string, MetadataEntry>();
  for (const entry of entries) {
    if (byPath.has(entry.path)) refuse(repository, entry.path, 'duplicate entry path');
    byPath.set(entry.path, entry);
  }

  if (single) {
    if (location === '/') refuse(repository, location, 'a single-file location cannot be /');
    const basename = path.posix.basename(location);
    const only = entries[0];
    if (entries.length !== 1 || !only || only.path !== basename) {
      refuse(repository, only?.path ?? location, `single-file metadata must have exactly one entry named "${basename}"`);
    }
    if (only.type !== 'file' && only.type !== 'symlink') {
      refuse(repository, only.path, `a single tracked file cannot be of type ${only.type}`);
    }
  } else {
    const root = byPath.get('.');
    if (root && root.type !== 'directory') refuse(repository, '.', `the tracked directory itself cannot be of type ${root.type}`);
    // Every listed ancestor must be a directory: anything beneath a symlink would be
    // written through it, anything beneath a file cannot exist.
    // Entry paths are clean relative paths by now (checkEntry): a parent is the text before the last '/'.
    const parentOf = (p: string): string => {
      const slash = p.lastIndexOf('/');
      return slash === -1 ? '.' : p.slice(0, slash);
    };
    for (const entry of entries) {
      if (entry.path === '.') continue;
      let parent = parentOf(entry.path);
      while (parent !== '.') {
        const ancestor = byPath.get(parent);
        if (ancestor?.type === 'symlink') {
          refuse(repository, entry.path, `it lies beneath "${parent}", a symlink (would write through a symlinked directory)`);
        }
        if (ancestor && ancestor.type !== 'directory') {
          refuse(repository, entry.path, `it lies beneath "${parent}", which is not a directory`);
        }
        parent = parentOf(parent);
      }
    }
  }
  // Hard links: each names a plain file entry (the first of its group) that names no other.
  for (const entry of entries) {
    if (entry.hardlink === undefined) continue;
    const leader = byPath.get(entry.hardlink);
    if (!leader || leader.type !== 'file' || leader.hardlink !== undefined || byteOrder(leader.path, entry.path) >= 0) {
      refuse(repository, entry.path, `hard link to ${JSON.stringify(entry.hardlink)}, which is not the first file of its link group`);
    }
  }
  const captured = metadata.xattrs === false ? { xattrs: false } : {};
  return { version: METADATA_VERSION, location, host, single, ...captured, ...(ignore ? { ignore: ignore as string[] } : {}), entries };
}
