// The masters after the first (pacha.host as a list): each has its own push queue, so its own
// backoff, and its own acknowledged ref and lock per path (Store.push with its id). A dead
// or hung master only ever waits in its own queue: the primary's queue (daemon.ts) and the
// other masters' go on. When it answers again, its next push sends everything it lacks.
import type { Level } from '../log.js';
import type { BackoffOptions } from '../backoff.js';
import { isPachaError } from '../errors.js';
import type { OtherMaster } from '../store/commit-and-push.js';
import type { Store, TrackedPath } from '../store/store.js';
import { PushQueue, type PushEvent } from './push-queue.js';

export type { OtherMaster };

export interface OtherMastersOptions {
  store: Store;
  masters: readonly OtherMaster[];
  log: (level: Level, message: string) => void;
  backoff?: BackoffOptions;
  divergedRetryMs?: number;
}

export class OtherMasters {
  private readonly queues: PushQueue[];

  constructor(options: OtherMastersOptions) {
    this.queues = options.masters.map(({ id, master }) => {
      const failing = new Set<string>();
      const onEvent = (event: PushEvent): void => {
        const where = `${event.tracked.location} to ${master.label}`;
        if (event.kind === 'pushed') {
          options.log(failing.delete(event.tracked.location) ? 'info' : 'debug', `pushed ${where}: ${event.commits} commit(s) (${event.sha.slice(0, 12)})`);
        } else if (event.kind === 'failed') {
          const message = isPachaError(event.error) ? event.error.message : String((event.error as Error)?.message ?? event.error);
          // Loud once per outage; the retries are at debug.
          options.log(failing.has(event.tracked.location) ? 'debug' : 'warn', `push of ${where} failed (attempt ${event.attempt}): ${message}; next try in ${(event.retryInMs / 1000).toFixed(1)} s; the other masters are not held up`);
          failing.add(event.tracked.location);
        } else if (event.first) {
          options.log('error', `DIVERGED: ${master.label}'s history of ${event.tracked.location} is not an ancestor of this host's; nothing was forced (this host's history is there as ${event.ref})`);
        }
      };
      return new PushQueue({
        push: (tracked) => options.store.push(tracked, master, id),
        onEvent,
        ...(options.backoff ? { backoff: options.backoff } : {}),
        ...(options.divergedRetryMs !== undefined ? { divergedRetryMs: options.divergedRetryMs } : {}),
      });
    });
  }

  request(tracked: TrackedPath): void {
    for (const queue of this.queues) queue.request(tracked);
  }

  remove(tracked: TrackedPath): void {
    for (const queue of this.queues) queue.remove(tracked);
  }

  /** One last attempt each, all at once (daemon shutdown). */
  async drain(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.drain()));
  }
}
