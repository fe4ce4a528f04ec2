// Standalone mode (pacha.host = local): the master is the local directory pacha.hosts.path.
// Same behaviour as the SSH master (LayoutMaster), answered with node:fs and a local sh.
import { execFile } from 'node:child_process';
import { copyFile, lstat, mkdir, readdir } from 'node:fs/promises';
import { errnoCode } from '../errors.js';
import { repositoryDir } from './layout.js';
import { LayoutMaster, type MasterEntry, type MasterFs, type ShellResult } from './layout-master.js';
import { minimalEnv } from './minimal-env.js';

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
    const entries = await Promise.all(names.map(async (name) => ({ name, mode: (await ignoreMissing(lstat(`${dir}/${name}`)))?.mode })));
    return entries.filter((e): e is MasterEntry => e.mode !== undefined);
  },
  async lstatMode(file: string): Promise<number | undefined> {
    return (await ignoreMissing(lstat(file)))?.mode;
  },
  async mkdir(dir: string): Promise<boolean> {
    try {
      await mkdir(dir);
      return true;
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') return false;
      throw error;
    }
  },
  async download(source: string, local: string): Promise<void> {
    await copyFile(source, local);
  },
  sh(script: string): Promise<ShellResult> {
    return new Promise((resolve) => {
      execFile('sh', ['-c', script], { env: minimalEnv() }, (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ status, stdout, stderr });
      });
    });
  },
};

export class LocalMaster extends LayoutMaster {
  readonly label: string;

  constructor(hostsPath: string) {
    super(hostsPath);
    this.label = `local:${hostsPath}`;
  }

  protected async fs(): Promise<MasterFs> {
    return localFs;
  }

  repositoryUrl(host: string, name: string): string {
    return repositoryDir(this.hostsPath, host, name);
  }

  gitEnv(): Record<string, string> {
    return minimalEnv();
  }

  async close(): Promise<void> {}
}
