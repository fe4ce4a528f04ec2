// Who made a commit: trailers on every commit (and on every heartbeat) saying which instance,
// which boot of it, which part of pacha, and for commands run by a person, which user.
//   Pacha-Instance: i-0abc…          (the instance id `pacha boot` read, when there was one)
//   Pacha-Boot: 6f1c…                (/proc/sys/kernel/random/boot_id)
//   Pacha-Origin: daemon             (daemon, push, watch, rollback, rebuild, boot, reconcile)
//   Pacha-User: alice                (CLI commands: SUDO_USER, else the login user)
//   Pacha-Take-Over: i-0old…         (boot --take-over: the instance this one took the name from)
// Formatting and parsing are pure; readHostFacts reads the two files.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { readBootInstance } from '../config/boot-settings.js';

/** What made a commit. `rebuild` is reserved: a rebuild places the master's commits and makes none of its own. */
export const ORIGINS = ['daemon', 'push', 'watch', 'rollback', 'rebuild', 'boot', 'reconcile'] as const;
export type CommitOrigin = (typeof ORIGINS)[number];

export interface Provenance {
  instance?: string | undefined;
  boot?: string | undefined;
  origin?: CommitOrigin | undefined;
  user?: string | undefined;
  takeOver?: string | undefined;
}

/** The same host facts for every commit of a process: the instance and this boot. */
export type HostFacts = Pick<Provenance, 'instance' | 'boot'>;

export const TRAILER_KEYS: Readonly<Record<keyof Provenance, string>> = {
  instance: 'Pacha-Instance',
  boot: 'Pacha-Boot',
  origin: 'Pacha-Origin',
  user: 'Pacha-User',
  takeOver: 'Pacha-Take-Over',
};

const FIELDS = Object.keys(TRAILER_KEYS) as Array<keyof Provenance>;

export const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

/** A trailer value: one line of printable text (a hostile SUDO_USER cannot add a trailer or a paragraph). */
function clean(value: string): string {
  return value.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 200);
}

/** The trailer lines, in a fixed order; empty when nothing is known. */
export function formatTrailers(p: Provenance): string[] {
  return FIELDS.flatMap((field) => {
    const value = p[field] === undefined ? '' : clean(p[field]);
    return value ? [`${TRAILER_KEYS[field]}: ${value}`] : [];
  });
}

/** The message with the trailers as its last paragraph (git interpret-trailers reads them there). */
export function withTrailers(message: string, p: Provenance): string {
  const lines = formatTrailers(p);
  return lines.length === 0 ? message : `${message.replace(/\s+$/, '')}\n\n${lines.join('\n')}\n`;
}

/** pacha's trailers from "Key: value" lines (a message's last paragraph, or git's %(trailers) output). */
export function parseTrailerLines(lines: Iterable<string>): Provenance {
  const found: Provenance = {};
  for (const line of lines) {
    const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line.trim());
    if (!match) continue;
    const field = FIELDS.find((f) => TRAILER_KEYS[f].toLowerCase() === match[1]!.toLowerCase());
    if (!field || !match[2]) continue;
    if (field === 'origin') {
      if ((ORIGINS as readonly string[]).includes(match[2])) found.origin = match[2] as CommitOrigin;
    } else {
      found[field] = match[2];
    }
  }
  return found;
}

/** pacha's trailers in a whole commit message (its last paragraph). */
export function parseTrailers(message: string): Provenance {
  const paragraphs = message.trim().split(/\n\s*\n/);
  return parseTrailerLines((paragraphs.at(-1) ?? '').split('\n'));
}

/** "daemon, instance i-1, boot 6f1c…, user alice", for `pacha log`; '' when nothing is known. */
export function describeProvenance(p: Provenance): string {
  return [
    p.origin,
    p.instance && `instance ${p.instance}`,
    p.boot && `boot ${p.boot.slice(0, 8)}`,
    p.user && `user ${p.user}`,
    p.takeOver && `took over from ${p.takeOver}`,
  ]
    .filter(Boolean)
    .join(', ');
}

/** Who runs a CLI command: the user sudo was run by, else the login user. Pure. */
export function invokingUser(env: NodeJS.ProcessEnv, loginName: () => string | undefined): string | undefined {
  const named = env.SUDO_USER || env.LOGNAME || env.USER;
  return named ? clean(named) || undefined : loginName();
}

/** invokingUser for this process. */
export function currentUser(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return invokingUser(env, () => {
    try {
      return os.userInfo().username;
    } catch {
      return undefined;
    }
  });
}

/** The instance id boot saved (boot-settings.json) and this boot's id; either may be unknown. */
export async function readHostFacts(stateDir: string, bootIdFile = BOOT_ID_FILE): Promise<HostFacts> {
  const boot = await readFile(bootIdFile, 'utf8').then(
    (text) => text.trim() || undefined,
    () => undefined,
  );
  return { instance: await readBootInstance(stateDir), boot };
}
