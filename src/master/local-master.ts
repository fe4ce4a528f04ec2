// Standalone mode (pacha.host = local): the master is the local directory pacha.hosts.path.
// Same behaviour as the SSH master (LayoutMaster), answered with node:fs and a local sh.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { errnoCode } from '../errors.js';
import { lstatOrUndefined } from '../fs/entry.js';
import { PRIVATE_PUSH_OPTIONS, repositoryDir } from './layout.js';
import { ensureRepositoryHere } from './ensure-repository.js';
import { LayoutOperations, type MasterEntry, type MasterFs } from './layout-operations.js';
import type { Master } from './master.js';
import { minimalEnv } from '../child-env.js';
import type { ShellResult } from './ssh-fs.js';

async function ignoreMissing<T>(action: Promise<T>): Promise<T | undefined> {
  try {
    return await action;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

export const localFs: MasterFs = {
  async list(dir: string): Promise<MasterEntry[] | undefined> {
    const names = await ignoreMissing(readdir(dir));
    if (!names) return undefined;
    const entries = await Promise.all(names.map(async (name) => ({ name, mode: (await lstatOrUndefined(`${dir}/${name}`))?.mode })));
    return entries.filter((e): e is MasterEntry => e.mode !== undefined);
  },
  async lstatMode(file: string): Promise<number | undefined> {
    return (await lstatOrUndefined(file))?.mode;
  },
  async mkdir(dir: string): Promise<boolean> {
    try {
      await mkdir(dir, { mode: 0o700 });
      return true;
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') return false;
      throw error;
    }
  },
  async download(source: string, local: string): Promise<void> {
    await copyFile(source, local);
  },
  ensureRepository: ensureRepositoryHere,
};

export class LocalMaster extends LayoutOperations implements Master {
  constructor(hostsPath: string) {
    super(`local:${hostsPath}`, hostsPath, async () => localFs);
  }

  repositoryUrl(host: string, name: string): string {
    return repositoryDir(this.hostsPath, host, name);
  }

  async pushOptions(): Promise<string[]> {
    return [...PRIVATE_PUSH_OPTIONS];
  }

  gitEnv(): Record<string, string> {
    return minimalEnv();
  }

  /** Run a read-only POSIX sh script here (`pacha fleet`), as the SSH master of a plain shell account does there. */
  runScript(script: string): Promise<ShellResult> {
    return new Promise((resolve) => {
      execFile('sh', ['-c', script], { env: minimalEnv(), cwd: '/', maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
        resolve({ status, stdout: String(stdout), stderr: String(stderr) || (error && status === 127 ? error.message : '') });
      });
    });
  }

  async close(): Promise<void> {}
}
