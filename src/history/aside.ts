// Moving what a rollback removes (entries that did not exist at REV) into the backup dir,
// under the same layout placing uses for what it displaces: <backups>/<time>/<host path>.
// The same keeping as placing's (keepInBackups): a rename, or across filesystems a copy first.
import { OperationError } from '../errors.js';
import { ancestorProblem, entryLocation, lstatOrUndefined } from '../fs/entry.js';
import { keepInBackups } from '../rebuild/place.js';
import type { Plan } from '../rebuild/plan.js';

/** Move one extra of a plan aside; returns where it went, or undefined when it is gone already. */
export async function moveAside(plan: Plan, entryPath: string, backupDir: string): Promise<string | undefined> {
  // The directories above it were real directories when inspected; make sure they still are.
  const problem = ancestorProblem(plan.targetRoot, entryPath, new Set());
  if (problem && problem.problem !== 'absent') {
    throw new OperationError('EUNSAFE', `refused to move ${JSON.stringify(entryPath)} of ${plan.location} aside: "${problem.path}" is a ${problem.problem}`, {
      hint: 'something changed the tracked path during the rollback; look at it and roll back again',
    });
  }
  const source = entryLocation(plan.targetRoot, entryPath);
  const stats = await lstatOrUndefined(source);
  if (!stats) return undefined;
  return keepInBackups({ backupDir, hostRoot: plan.hostRoot, entryPath, target: source, stats, moveAway: true });
}
