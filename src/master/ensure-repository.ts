// Make <hosts_path>/<host>/<name> a repository with a working copy, here, with git run by
// argv (no shell): the local master and the gate (`pacha serve`) use it. The SSH master of a
// plain shell account runs the same steps as a script (layout.ts, ensureRepositoryScript).
// Private at rest: the host dir and the repository are 0700 and git writes its files 0600
// (core.sharedRepository), whatever the umask.
import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { NEUTRAL_ATTRIBUTES } from '../git-attributes.js';
import { hostDir, INIT_OPTIONS, repositoryDir, REPOSITORY_CONFIG } from './layout.js';
import { hostsPathMissing, notADirectory, remoteCommandFailed } from './master-errors.js';
import { minimalEnv } from '../child-env.js';

function git(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { env: minimalEnv(), cwd: '/' }, (error, _stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderr: String(stderr) }));
      else resolve();
    });
  });
}

/** Whether something is at `file`; a symlink or a non-directory where a directory belongs is refused (never followed). */
async function directoryOrNothing(dir: string, label: string): Promise<void> {
  try {
    if (!(await lstat(dir)).isDirectory()) throw notADirectory(label, dir);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

async function mkdirPrivate(dir: string): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
  }
}

export async function ensureRepositoryHere(hostsPath: string, host: string, name: string, label: string): Promise<'created' | 'exists'> {
  const repo = repositoryDir(hostsPath, host, name);
  if (!(await exists(hostsPath))) throw hostsPathMissing(label, hostsPath);
  const hostDirectory = hostDir(hostsPath, host);
  await directoryOrNothing(hostDirectory, label);
  await directoryOrNothing(repo, label);
  try {
    await mkdirPrivate(hostDirectory);
    let state: 'created' | 'exists' = 'exists';
    if (!(await exists(path.join(repo, '.git')))) {
      await mkdirPrivate(repo);
      await git(['init', ...INIT_OPTIONS, repo]);
      state = 'created';
    }
    await chmod(hostDirectory, 0o700);
    await chmod(repo, 0o700);
    for (const [key, value] of REPOSITORY_CONFIG) await git(['-C', repo, 'config', key, value]);
    // The working copy byte for byte, whatever a .gitattributes among the host's files says.
    await mkdir(path.join(repo, '.git', 'info'), { recursive: true, mode: 0o700 });
    await writeFile(path.join(repo, '.git', 'info', 'attributes'), NEUTRAL_ATTRIBUTES, { mode: 0o600 });
    return state;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw remoteCommandFailed(label, `creating repository ${host}/${name}`, errnoCode(error) === 'ENOENT' ? 127 : 1, stderr);
  }
}
