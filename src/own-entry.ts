// The file this pacha process was started from, so pacha can start itself again: git runs
// pacha's S3 remote helper as `node <entry> --git-remote-pacha-s3` (master/s3/s3-master.ts).
// The CLI's entry modules record themselves first thing (cli/bin.ts, then cli/main.ts: the
// first one wins), which is right wherever the code was built to: the tsc build, the one-file
// bundle, or the split bundle whose modules sit in chunks/ beside its entry.
import { fileURLToPath } from 'node:url';

let entry: string | undefined;

/** Record an entry module's own URL; a later call (an inner entry) changes nothing. */
export function recordOwnEntry(moduleUrl: string): void {
  entry ??= fileURLToPath(moduleUrl);
}

/** The recorded entry; undefined when pacha's modules run without its CLI (a test, a bench). */
export function ownEntry(): string | undefined {
  return entry;
}
