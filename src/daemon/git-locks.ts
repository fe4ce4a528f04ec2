// After a SIGKILL mid-commit a git dir may keep index.lock, HEAD.lock or refs/**/*.lock,
// and every later git command fails on them. They are removed only when no running process
// holds them: none has the file open (/proc/*/fd) and no git process works on this git dir
// (its GIT_DIR, its cwd or its arguments). Git closes some lock files before renaming them,
// so an open file descriptor alone is not proof enough.
//
// The state dir is mode 0700: only our own user (or root) can hold a lock there, and we can
// read those processes' /proc entries; an unreadable process is someone else's.
import { readFile, readdir, readlink, rm } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../errors.js';

export interface ProcessView {
  pid: number;
  /** argv, as in /proc/PID/cmdline. */
  argv: string[];
  cwd?: string;
  /** Targets of /proc/PID/fd/* links. */
  openFiles: string[];
  /** GIT_DIR from /proc/PID/environ, if any. */
  gitDirEnv?: string;
}

export interface LockDecision {
  remove: string[];
  keep: Array<{ file: string; pid: number; why: string }>;
}

const inside = (file: string, dir: string) => file === dir || file.startsWith(dir + path.sep);

function isGitProcess(p: ProcessView): boolean {
  const name = path.basename(p.argv[0] ?? '');
  return name === 'git' || name.startsWith('git-');
}

/** Pure: which lock files of gitDir may go, given the processes running now. */
export function decideLocks(gitDir: string, locks: string[], processes: ProcessView[]): LockDecision {
  const decision: LockDecision = { remove: [], keep: [] };
  const worker = processes.find(
    (p) =>
      p.pid !== process.pid &&
      isGitProcess(p) &&
      ((p.gitDirEnv !== undefined && path.resolve(p.cwd ?? '/', p.gitDirEnv) === gitDir) ||
        (p.cwd !== undefined && inside(p.cwd, gitDir)) ||
        p.argv.some((a) => inside(path.resolve(p.cwd ?? '/', a), gitDir))),
  );
  for (const file of locks) {
    const opener = processes.find((p) => p.openFiles.includes(file));
    if (opener) decision.keep.push({ file, pid: opener.pid, why: `open in PID ${opener.pid} (${opener.argv[0] ?? '?'})` });
    else if (worker) decision.keep.push({ file, pid: worker.pid, why: `git PID ${worker.pid} works on ${gitDir}` });
    else decision.remove.push(file);
  }
  return decision;
}

/** index.lock, HEAD.lock, packed-refs.lock … at the top of the git dir, and refs/**\/*.lock. */
export async function findGitLocks(gitDir: string): Promise<string[]> {
  const out: string[] = [];
  const top = await readdir(gitDir, { withFileTypes: true }).catch(() => []);
  for (const e of top) if (e.isFile() && e.name.endsWith('.lock')) out.push(path.join(gitDir, e.name));
  const stack = [path.join(gitDir, 'refs')];
  while (stack.length) {
    const dir = stack.pop()!;
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) stack.push(full);
      else if (e.name.endsWith('.lock')) out.push(full);
    }
  }
  return out.sort();
}

async function viewProcess(pid: number): Promise<ProcessView | undefined> {
  const base = `/proc/${pid}`;
  let argv: string[];
  try {
    argv = (await readFile(`${base}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  } catch {
    return undefined; // gone
  }
  const cwd = await readlink(`${base}/cwd`).catch(() => undefined);
  const openFiles: string[] = [];
  for (const fd of await readdir(`${base}/fd`).catch(() => [])) {
    const target = await readlink(`${base}/fd/${fd}`).catch(() => undefined);
    if (target?.startsWith('/')) openFiles.push(target);
  }
  const environ = await readFile(`${base}/environ`, 'utf8').catch(() => '');
  const gitDirEnv = environ.split('\0').find((v) => v.startsWith('GIT_DIR='))?.slice('GIT_DIR='.length);
  return { pid, argv, cwd, openFiles, gitDirEnv };
}

/** Every process we can see (our own user's, or all as root). */
export async function snapshotProcesses(): Promise<ProcessView[]> {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number);
  const views = await Promise.all(pids.map(viewProcess));
  return views.filter((v): v is ProcessView => v !== undefined);
}

/** Remove the git dir's stale locks; report what was removed and what is held. */
export async function clearStaleGitLocks(gitDir: string): Promise<LockDecision> {
  const resolved = path.resolve(gitDir);
  const locks = await findGitLocks(resolved);
  if (locks.length === 0) return { remove: [], keep: [] };
  const decision = decideLocks(resolved, locks, await snapshotProcesses());
  for (const file of decision.remove) {
    await rm(file).catch((error: unknown) => {
      if (errnoCode(error) !== 'ENOENT') throw error; // released meanwhile: fine
    });
  }
  return decision;
}
