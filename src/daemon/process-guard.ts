// Last line of defence for a long-running process (the daemon, boot): an error that escaped
// every handler (an 'error' event nobody listens to, a rejected promise nobody awaits) is
// logged with its stack and the process keeps serving. Dying would leave the host without
// backups until systemd's restart, and the same outside fault would kill it again; a bug
// logged loudly is found as surely. Only a configuration error stops the daemon, on purpose.
import type { Level } from '../log.js';

let guarded = false;

/** Install the handlers (once per process: boot's guard covers the daemon it becomes); returns their removal. */
export function guardProcess(log: (level: Level, message: string) => void): () => void {
  if (guarded) return () => undefined;
  guarded = true;
  const describe = (error: unknown): string => (error instanceof Error ? (error.stack ?? error.message) : String(error));
  const onException = (error: unknown): void => log('error', `internal error, kept running: ${describe(error)}`);
  const onRejection = (reason: unknown): void => log('error', `internal error (unhandled rejection), kept running: ${describe(reason)}`);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    guarded = false;
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
