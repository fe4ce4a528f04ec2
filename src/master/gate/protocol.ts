// The words pacha's client and the gate (`pacha serve HOST`) share. The client sends one
// line as the SSH command; sshd hands it to the gate in SSH_ORIGINAL_COMMAND. Pure.
//
//   pacha-gate hello                         -> {"gate":1,"host":"alpha","hostsPath":"/pacha/hosts"}
//   pacha-gate hosts                         -> {"hosts":["alpha"]}  (only the key's own host)
//   pacha-gate describe HOST                 -> {"listing":{…}|null}
//   pacha-gate add-host HOST                 -> {"outcome":"created"|"exists"}
//   pacha-gate ensure-repository HOST NAME   -> {"outcome":"created"|"exists"}
//   pacha-gate hooks HOST pre|post           -> {"hooks":[{name,mode,type,data?}]}
//   pacha-gate session                       -> a kept session (the daemon's pushes), then per update:
//       apply-update NAME FROM TO BYTES\n<BYTES of pack>  -> {"status":0} | {"status":9x,"reason":"…"}
//     (master/fast-update.ts: the branch moves FROM -> TO as a push to a checked-out branch would)
//   git-upload-pack '<hosts_path>/HOST/NAME'   (git's own form, as OpenSSH sends it)
//   git-receive-pack '<hosts_path>/HOST/NAME'
import type { HookPhase } from '../layout.js';

export const GATE_WORD = 'pacha-gate';
export const GATE_VERSION = 1;

export type GateVerb = 'hello' | 'hosts' | 'describe' | 'add-host' | 'ensure-repository' | 'hooks' | 'session';

/** A session's request line, and the longest one the gate reads. */
export const SESSION_UPDATE_WORD = 'apply-update';
export const MAX_SESSION_LINE = 512;

/** One request of a kept session: its line (the pack's bytes follow it). */
export function sessionUpdateLine(name: string, from: string, to: string, bytes: number): string {
  return `${SESSION_UPDATE_WORD} ${name} ${from} ${to} ${bytes}\n`;
}

/** The answer to one request of a kept session. */
export interface SessionAnswer {
  status: number;
  reason?: string;
}

/** What the gate prints on stderr before a refusal's reason, and the exit status it uses (EX_NOPERM). */
export const REFUSED_PREFIX = 'pacha serve: refused: ';
export const REFUSED_STATUS = 77;

/** A hook file larger than this is not sent (a hook is a small script). */
export const MAX_HOOK_BYTES = 4 * 1024 * 1024;

/** The command line the client sends for a verb. Arguments are checked names: no quoting needed. */
export function gateCommand(verb: GateVerb, ...args: string[]): string {
  return [GATE_WORD, verb, ...args].join(' ');
}

export interface Hello {
  gate: number;
  host: string;
  hostsPath: string;
}

/** The hello answer, or undefined when the output is not one (a plain shell account answered). */
export function parseHello(stdout: string): Hello | undefined {
  try {
    const value = JSON.parse(stdout) as Partial<Hello>;
    if (value && value.gate === GATE_VERSION && typeof value.host === 'string' && typeof value.hostsPath === 'string') {
      return { gate: value.gate, host: value.host, hostsPath: value.hostsPath };
    }
  } catch {
    // not JSON: not a gate
  }
  return undefined;
}

/** The reason of a refusal in the gate's stderr, if there is one. */
export function refusalIn(stderr: string): string | undefined {
  const line = stderr.split('\n').find((l) => l.startsWith(REFUSED_PREFIX));
  return line?.slice(REFUSED_PREFIX.length).trim();
}

export interface WireHook {
  name: string;
  mode: number;
  type: 'file' | 'directory' | 'symlink' | 'other';
  /** Base64 content (regular files only). */
  data?: string;
}

export const PHASES: readonly HookPhase[] = ['pre', 'post'];
