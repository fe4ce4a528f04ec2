// The Master operations both filesystems share, written once over a small filesystem
// interface: the SSH master answers it with SFTP and exec, the local one with node:fs.
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { byteOrder } from '../fs/byte-order.js';
import type { HookFile, HostListing, Master } from './master.js';
import { hostsPathMissing, notADirectory } from './master-errors.js';
import {
  hostDir,
  hostListing,
  hostNames,
  hooksDir,
  isCopiedHook,
  typeFromMode,
  unsafeComponentReason,
  type DirEntry,
  type HookPhase,
} from './layout.js';

export interface MasterEntry {
  name: string;
  /** st_mode from lstat (type bits included). */
  mode: number;
}

/** What a master's filesystem must answer. Paths are absolute POSIX paths on the master. */
export interface MasterFs {
  /** Entries of a directory (lstat), without . and ..; undefined when it does not exist. */
  list(dir: string): Promise<MasterEntry[] | undefined>;
  /** lstat's st_mode, or undefined when nothing is there. */
  lstatMode(file: string): Promise<number | undefined>;
  /** mkdir (not recursive), mode 0700; false when something already exists there. */
  mkdir(dir: string): Promise<boolean>;
  /** Copy a regular file from the master to a local path. */
  download(remote: string, local: string): Promise<void>;
  /** Make <hosts_path>/<host>/<name> a private repository with a working copy (idempotent). */
  ensureRepository(hostsPath: string, host: string, name: string, label: string): Promise<'created' | 'exists'>;
}

/** What a master does with its hosts' directories; the rest of Master is transport (URLs, git's environment). */
export type MasterOperations = Pick<Master, 'label' | 'hostsPath' | 'listHosts' | 'describeHost' | 'addHost' | 'ensureRepository' | 'fetchHooks'>;

/** The operations over a filesystem: the local master's own, or a plain shell account's over SFTP. */
export class LayoutOperations implements MasterOperations {
  constructor(
    readonly label: string,
    readonly hostsPath: string,
    private readonly fs: () => Promise<MasterFs>,
  ) {}

  async listHosts(): Promise<string[]> {
    const entries = await listSafe(await this.fs(), this.hostsPath);
    if (!entries) throw hostsPathMissing(this.label, this.hostsPath);
    return hostNames(entries.map(toDirEntry));
  }

  async describeHost(host: string): Promise<HostListing | undefined> {
    const fs = await this.fs();
    const dir = hostDir(this.hostsPath, host);
    const entries = await listSafe(fs, dir);
    if (!entries) return undefined;
    const withGit = await Promise.all(
      entries.map(toDirEntry).map(async (entry) =>
        entry.type === 'directory'
          ? { ...entry, hasGit: (await fs.lstatMode(path.posix.join(dir, entry.name, '.git'))) !== undefined }
          : entry,
      ),
    );
    return hostListing(host, withGit);
  }

  async addHost(host: string): Promise<'created' | 'exists'> {
    const fs = await this.fs();
    const dir = hostDir(this.hostsPath, host);
    if ((await fs.lstatMode(this.hostsPath)) === undefined) throw hostsPathMissing(this.label, this.hostsPath);
    if (await fs.mkdir(dir)) return 'created';
    const mode = await fs.lstatMode(dir);
    if (mode === undefined || typeFromMode(mode) !== 'directory') throw notADirectory(this.label, dir);
    return 'exists';
  }

  async ensureRepository(host: string, name: string): Promise<'created' | 'exists'> {
    return (await this.fs()).ensureRepository(this.hostsPath, host, name, this.label);
  }

  async fetchHooks(host: string, phase: HookPhase, localDir: string): Promise<HookFile[]> {
    const fs = await this.fs();
    const dir = hooksDir(this.hostsPath, host, phase);
    const entries = await listSafe(fs, dir);
    if (!entries) return [];
    await mkdir(localDir, { recursive: true, mode: 0o700 });
    const hooks: HookFile[] = [];
    for (const entry of [...entries].sort((a, b) => byteOrder(a.name, b.name))) {
      const hook: HookFile = { name: entry.name, mode: entry.mode & 0o7777, type: typeFromMode(entry.mode) };
      if (isCopiedHook(hook)) {
        hook.localPath = path.join(localDir, entry.name);
        await fs.download(path.posix.join(dir, entry.name), hook.localPath);
        await chmod(hook.localPath, hook.mode);
      }
      hooks.push(hook);
    }
    return hooks;
  }
}

/** A directory's entries, leaving out any name that is not one safe path component (a hostile server could send one). */
async function listSafe(fs: MasterFs, dir: string): Promise<MasterEntry[] | undefined> {
  return (await fs.list(dir))?.filter((entry) => unsafeComponentReason(entry.name) === undefined);
}

function toDirEntry(entry: MasterEntry): DirEntry {
  return { name: entry.name, type: typeFromMode(entry.mode) };
}
