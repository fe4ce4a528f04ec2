// Moving what a rollback removes (entries that did not exist at REV) into the backup dir,
// under the same layout placing uses for what it displaces: <backups>/<time>/<host path>.
// A rename, so the entry leaves the tracked path whole; across filesystems a copy (modes,
// symlinks as symlinks, the entry's own owner), and only then the removal.
import { cp, lchown, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, OperationError } from '../errors.js';
import { ancestorProblem, entryLocation, lstatOrUndefined } from '../rebuild/inspect.js';
import type { Plan } from '../rebuild/plan.js';

/** Move one extra of a plan aside; returns where it went, or undefined when it is gone already. */
export async function moveAside(plan: Plan, entryPath: string, backupDir: string): Promise<string | undefined> {
  // The directories above it were real directories when inspected; make sure they still are.
  const problem = await ancestorProblem(plan.targetRoot, entryPath, new Set());
  if (problem && problem.problem !== 'absent') {
    throw new OperationError('EUNSAFE', `refused to move ${JSON.stringify(entryPath)} of ${plan.location} aside: "${problem.path}" is a ${problem.problem}`, {
      hint: 'something changed the tracked path during the rollback; look at it and roll back again',
    });
  }
  const source = entryLocation(plan.targetRoot, entryPath);
  const stats = await lstatOrUndefined(source);
  if (!stats) return undefined;
  const backup = path.join(backupDir, entryLocation(plan.hostRoot, entryPath));
  await mkdir(path.dirname(backup), { recursive: true, mode: 0o700 });
  try {
    await rename(source, backup);
  } catch (error) {
    if (errnoCode(error) !== 'EXDEV') throw error;
    await cp(source, backup, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true, preserveTimestamps: true });
    await lchown(backup, stats.uid, stats.gid);
    await rm(source, { recursive: true });
  }
  return backup;
}
