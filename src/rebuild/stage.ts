// The stage: a fresh 0700 directory under the state dir (never a fixed /tmp path, the
// original's /tmp/<host> was a symlink race) holding each repository cloned from the master
// (full history, so watching resumes on it) and its files checked out for placing.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { classifyPushFailure } from '../store/push.js';
import { isPachaError, MasterError, OperationError } from '../errors.js';
import { snapshotProcesses } from '../daemon/git-locks.js';
import { fileStamp } from '../fs/file-stamp.js';
import { isHolderAlive, selfIdentity } from '../fs/process-lock.js';
import type { Master } from '../master/master.js';
import { retryDroppedConnections, type RetryDropsOptions } from '../master/transient.js';
import { BRANCH } from '../store/commit.js';
import { gitAt, neutralizeRepository } from '../store/git.js';
import { METADATA_PATH, type Metadata } from '../store/metadata.js';
import { readMetadataAt } from '../store/metadata-read.js';
import { validateMetadata } from './validate.js';

export interface Stage {
  dir: string;
  remove(): Promise<void>;
}

/**
 * A stage's name carries the identity of the process that made it (time, PID, start time,
 * random): known the moment the directory exists, so a run killed at any point leaves a
 * stage the next run can judge.
 */
export async function createStage(stateDir: string, when = new Date()): Promise<Stage> {
  const parent = path.join(stateDir, 'stage');
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const me = await selfIdentity();
  const dir = path.join(parent, `${fileStamp(when)}-${me.pid}-${me.start}-${randomBytes(4).toString('hex')}`);
  // Exclusive: an existing staging area is never reused blindly.
  await mkdir(dir, { mode: 0o700 });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The owner recorded in a stage's name; undefined for a name pacha did not make. Pure. */
export function stageOwner(name: string): { pid: number; start: string } | undefined {
  const m = /-(\d+)-(\d+)-[0-9a-f]{8}$/.exec(name);
  return m ? { pid: Number(m[1]), start: m[2]! } : undefined;
}

/**
 * Stages left by a rebuild that was killed (SIGKILL, a power cut): every stage whose owner
 * process no longer runs (or ran before this boot) is removed; a rebuild running beside this
 * one keeps its stage. Returns the removed directories.
 */
export async function removeStaleStages(stateDir: string): Promise<string[]> {
  const parent = path.join(stateDir, 'stage');
  const removed: string[] = [];
  const boot = (await selfIdentity()).boot;
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const dir = path.join(parent, name);
    const owner = stageOwner(name);
    // Boot ids are not in the name: a live process with that PID and start time after a reboot is a rare coincidence, and keeps a stage one run longer.
    if (owner && (await isHolderAlive({ ...owner, boot }))) continue;
    // SIGKILL takes pacha, not its children: a git clone or checkout of the killed run may
    // still be writing into the stage. They are orphans of a dead run: stopped first.
    await killOrphansIn(dir);
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    removed.push(dir);
  }
  return removed;
}

async function killOrphansIn(dir: string): Promise<void> {
  const inside = (p: string | undefined): boolean => p !== undefined && (p === dir || p.startsWith(`${dir}/`));
  const orphans = (await snapshotProcesses()).filter(
    (p) => p.pid !== process.pid && (inside(p.cwd) || inside(p.gitDirEnv) || p.argv.some(inside) || p.openFiles.some(inside)),
  );
  for (const p of orphans) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  if (orphans.length > 0) await new Promise((r) => setTimeout(r, 50));
}

export interface StagedRepository {
  name: string;
  /** The bare clone: becomes the local store's git dir after placing. */
  gitDir: string;
  /** The checked-out files. */
  tree: string;
  /** The commit checked out (the branch's head on the master). */
  head: string;
  metadata: Metadata;
}

/** What `git clone --bare` makes, where the master copies refs itself: its branches, HEAD on main. */
async function cloneByCopy(master: Master, host: string, name: string, gitDir: string): Promise<void> {
  await gitAt({ gitDir }).raw(['init', '-q', '--bare']);
  await writeFile(path.join(gitDir, 'HEAD'), `ref: ${BRANCH}\n`); // git symbolic-ref's work, without its process
  await master.copyRefs!(host, name, gitDir, (ref) => (ref.startsWith('refs/heads/') ? ref : undefined));
}

/** Clone one repository from the master into the stage and check its files out. */
export async function stageRepository(master: Master, host: string, name: string, stageDir: string, retry: RetryDropsOptions = { budgetMs: 0 }): Promise<StagedRepository> {
  const gitDir = path.join(stageDir, `${name}.git`);
  const tree = path.join(stageDir, name, 'tree');
  const url = master.repositoryUrl(host, name);
  try {
    // A connection the master dropped (sshd's MaxStartups under a boot storm) is tried again;
    // a refusal (host key, our key) fails at once (master/transient.ts).
    await retryDroppedConnections(async () => {
      await rm(gitDir, { recursive: true, force: true });
      if (master.copyRefs) await cloneByCopy(master, host, name, gitDir);
      else await gitAt({ gitDir: stageDir, env: master.gitEnv() }).raw(['clone', '--bare', '--quiet', '--no-hardlinks', url, gitDir]);
    }, retry);
  } catch (error) {
    if (isPachaError(error)) throw error; // the master's own diagnosis (S3: denied, no bucket …)
    const failure = classifyPushFailure((error as Error).message);
    const reason = failure.kind === 'other' || failure.kind === 'dropped' ? lastLine((error as Error).message) : failure.summary;
    throw new MasterError(`cannot clone ${name} of ${host} from ${master.label}: ${reason}`, {
      code: 'ECLONE',
      cause: error,
    });
  }
  await mkdir(tree, { recursive: true, mode: 0o700 });
  // No .gitattributes in the repository may change what is checked out.
  await neutralizeRepository(gitDir);
  const git = gitAt({ gitDir, workTree: tree, env: { GIT_INDEX_FILE: path.join(stageDir, name, 'index') } });
  // The branch's commit and the metadata from git's objects (store/metadata-read.ts), in as
  // few processes as that takes (they were most of a small rebuild's time on a loaded machine).
  const read = await readMetadataAt(git, BRANCH, [`${BRANCH}^{commit}`]);
  const [commit] = read.also;
  if (commit?.type !== 'commit') {
    throw new OperationError('EEMPTYREPO', `${name} of ${host} on ${master.label} has no commits yet`, {
      hint: 'the host never pushed this path; rebuild the others with --directory',
    });
  }
  await git.raw(['read-tree', '--reset', '-u', BRANCH]); // the index and the checkout in one process
  if (read.problem) {
    throw new OperationError('ENOMETADATA', `${name} of ${host} has no readable ${METADATA_PATH}: ${read.problem.message}`, {
      hint: 'pacha restores only repositories it pushed itself: inspect that repository on the master',
      cause: read.problem,
    });
  }
  const raw = read.metadata;
  return { name, gitDir, tree, head: commit.oid, metadata: validateMetadata(raw, name) };
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).at(-1) ?? text;
}
