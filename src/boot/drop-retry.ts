// Boot talks to the master in several steps after waiting for it (the fence read, the clones,
// the hooks listing, the claim's pushes). Under a boot storm sshd's MaxStartups drops some of
// those connections; each step tries again with jittered backoff within pacha.boot.timeout
// (master/transient.ts decides what is a drop; a refusal is never retried), and says so in
// the log, one line per retry.
import type { Output } from '../log.js';
import type { RetryDropsOptions } from '../master/transient.js';

/** The last line of what failed: what ssh or ssh2 said. Pure. */
export function dropReason(error: Error): string {
  const lines = error.message.trim().split('\n').filter((l) => l.trim() !== '');
  return lines.at(-1) ?? error.message;
}

/** Retry options for one of boot's steps (`what`: "fence read of web1", the master's label …). */
export function bootDropRetry(what: string, budgetMs: number, out: Output): RetryDropsOptions {
  return {
    budgetMs,
    onRetry: (attempt, error, delayMs) => out.info(`${what}: the master dropped the connection (${dropReason(error)}); retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s`),
  };
}
