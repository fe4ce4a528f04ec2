// pacha's own temporary files beside a target (rebuild, rollback: written there, renamed over
// it): `.pacha-tmp-` and 16 hex digits. Never tracked, never a change, removed when an
// interrupted run left one.
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export const TEMP_PREFIX = '.pacha-tmp-';
/** The length of a temporary name: the prefix and 16 hex digits. */
export const TEMP_NAME_LENGTH = TEMP_PREFIX.length + 16;

export function isPachaTemp(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

/** A fresh temporary name in the directory of `target`. */
export function tempNameBeside(target: string): string {
  return path.join(path.dirname(target), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
}
