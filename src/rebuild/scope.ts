// Which repositories of the master this host restores. The master's word (the location in a
// repository's metadata) is not enough: a repository that would land outside what this host
// tracks (pacha.watch, when set) is listed and skipped, never placed and tracked. Pure.
import type { NotRestored } from './report.js';

export function isWithin(location: string, parent: string): boolean {
  return location === parent || location.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}

/** Why the repository at `location` is not this host's to restore, or undefined when it is. */
export function outsideTrackedReason(location: string, tracked: readonly string[]): string | undefined {
  if (tracked.length === 0 || tracked.some((t) => isWithin(location, t))) return undefined;
  return `its metadata places it at ${location}, outside what this host tracks (pacha.watch = ${tracked.join(', ')}); not placed, not tracked`;
}

/** Split repositories into those to restore and those to list as not restored. */
export function scopeRepositories<R extends { name: string; metadata: { location: string } }>(
  repositories: readonly R[],
  tracked: readonly string[],
): { restore: R[]; notRestored: NotRestored[] } {
  const restore: R[] = [];
  const notRestored: NotRestored[] = [];
  for (const repository of repositories) {
    const reason = outsideTrackedReason(repository.metadata.location, tracked);
    if (reason) notRestored.push({ name: repository.name, location: repository.metadata.location, reason });
    else restore.push(repository);
  }
  return { restore, notRestored };
}
