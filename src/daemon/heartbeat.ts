// The daemon's heartbeat timer (store/heartbeat.ts sends one beat). At start, after each
// successful push, and every few minutes it looks which tracked paths are due (heartbeatDue:
// at most once per pacha.fleet.heartbeat, default an hour) and beats for those. A failed beat
// is retried at the next look; the push queue already reports an unreachable master loudly.
import type { Level } from '../log.js';
import type { Master } from '../master/master.js';
import { heartbeatDue, lastHeartbeat, sendHeartbeat } from '../store/heartbeat.js';
import type { Store, TrackedPath } from '../store/store.js';

/** How often the daemon looks whether a beat is due (a beat itself is at most hourly). */
const LOOK_EVERY_MS = 5 * 60_000;

export interface HeartbeatOptions {
  store: Store;
  master: Master;
  intervalMs: number;
  log: (level: Level, message: string) => void;
  now?: () => Date;
}

export interface HeartbeatTimer {
  /** Beat for this path if it is due (after a push: its repository is on the master now). */
  poke(tracked: TrackedPath): void;
  /** Stop the timer; resolves once a beat in flight is done. */
  stop(): Promise<void>;
}

export function startHeartbeat(options: HeartbeatOptions): HeartbeatTimer {
  const now = options.now ?? (() => new Date());
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const failing = new Set<string>();
  // The last heartbeat per path, read from git once and again only after a new one was sent:
  // a poke after every push must not cost processes (issue 14: ≤ 8 per commit and push).
  const known = new Map<string, Awaited<ReturnType<typeof lastHeartbeat>>>();

  async function beat(tracked: TrackedPath): Promise<void> {
    if (stopped) return;
    try {
      const facts = await options.store.hostFacts();
      if (!known.has(tracked.gitDir)) known.set(tracked.gitDir, await lastHeartbeat(options.store, tracked));
      if (!heartbeatDue(known.get(tracked.gitDir), now(), facts, options.intervalMs)) return;
      known.delete(tracked.gitDir);
      if ((await sendHeartbeat(options.store, tracked, options.master, now())) === 'sent') {
        options.log('debug', `heartbeat of ${tracked.location} sent to ${options.master.label}`);
        failing.delete(tracked.location);
      }
    } catch (error) {
      // Said once per outage, at debug after that: the push queue speaks for the master.
      options.log(failing.has(tracked.location) ? 'debug' : 'warn', `heartbeat of ${tracked.location}: ${(error as Error).message}`);
      failing.add(tracked.location);
    }
  }

  /** Beats run one at a time, in order. */
  const enqueue = (work: () => Promise<void>): void => {
    running = running.then(work, work);
  };
  const beatAll = (): void =>
    enqueue(async () => {
      for (const tracked of await options.store.list().catch(() => [])) await beat(tracked);
    });

  const timer = setInterval(beatAll, Math.min(LOOK_EVERY_MS, options.intervalMs));
  beatAll();
  return {
    poke: (tracked) => enqueue(() => beat(tracked)),
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
