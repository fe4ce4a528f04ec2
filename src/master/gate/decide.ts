// The gate's one decision: what an SSH command asks, and whether the key enrolled for HOST
// may have it. Pure and strict, like gitolite-shell: one line of printable ASCII, a closed
// set of verbs, names checked against the names pacha itself makes, paths compared exactly
// (never normalised). Everything not explicitly allowed is refused with a one-line reason.
import { checkHostName } from '../../config/values.js';
import { repositoryNameProblem, type HookPhase } from '../layout.js';
import { FAST_UPDATE_MAX_PACK_BYTES, isObjectName } from '../fast-update.js';
import { GATE_WORD, MAX_SESSION_LINE, PHASES, SESSION_UPDATE_WORD, type GateVerb } from './protocol.js';

export interface GateIdentity {
  /** The host the key is enrolled for (`pacha serve HOST`). */
  host: string;
  /** pacha.hosts.path on the master, as configured (absolute, no trailing slash). */
  hostsPath: string;
}

export type GateRequest =
  | { verb: 'hello' }
  | { verb: 'hosts' }
  | { verb: 'session' }
  | { verb: 'describe' | 'add-host'; host: string }
  | { verb: 'ensure-repository'; host: string; name: string }
  | { verb: 'hooks'; host: string; phase: HookPhase }
  | { verb: 'upload-pack' | 'receive-pack'; host: string; name: string };

export type GateDecision = { allowed: true; request: GateRequest } | { allowed: false; reason: string };

/** Longer than any command pacha sends (a path is at most 4096 bytes on Linux). */
export const MAX_COMMAND_LENGTH = 4200;

const refuse = (reason: string): GateDecision => ({ allowed: false, reason });
const allow = (request: GateRequest): GateDecision => ({ allowed: true, request });

/** A short, printable rendering of untrusted text for a refusal message. */
export function shown(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(printable.length > 60 ? `${printable.slice(0, 57)}...` : printable);
}

/**
 * Undo git's sq_quote (`'a'\''b'` -> `a'b`, `'\!'` -> `!`): the only quoting accepted. Undefined
 * for anything else, so no shell rule is ever needed to read a path.
 */
export function unquoteGitArgument(quoted: string): string | undefined {
  let out = '';
  let i = 0;
  while (i < quoted.length) {
    if (quoted[i] !== "'") return undefined;
    const end = quoted.indexOf("'", i + 1);
    if (end < 0) return undefined;
    out += quoted.slice(i + 1, end);
    i = end + 1;
    if (i === quoted.length) return out;
    if (quoted[i] !== '\\' || (quoted[i + 1] !== "'" && quoted[i + 1] !== '!')) return undefined;
    out += quoted[i + 1];
    i += 2;
  }
  return undefined;
}

function otherHost(identity: GateIdentity, host: string): GateDecision {
  return refuse(`this key is enrolled for host '${identity.host}'; it may not reach host ${shown(host)}`);
}

function checkHost(identity: GateIdentity, host: string): GateDecision | undefined {
  if (checkHostName(host)) return refuse(`${shown(host)} is not a host name`);
  if (host !== identity.host) return otherHost(identity, host);
  return undefined;
}

function checkName(name: string): GateDecision | undefined {
  const problem = repositoryNameProblem(name);
  return problem ? refuse(`repository ${shown(name)} ${problem}`) : undefined;
}

/** `<hosts_path>/<HOST>/<NAME>`, compared component by component: no '.', '..', '//' or trailing '/'. */
function decideGit(verb: 'upload-pack' | 'receive-pack', quoted: string, identity: GateIdentity): GateDecision {
  const dir = unquoteGitArgument(quoted);
  if (dir === undefined) return refuse(`the path of git-${verb} must be one single-quoted word, as git sends it`);
  const prefix = `${identity.hostsPath}/`;
  if (!dir.startsWith(prefix)) return refuse(`${shown(dir)} is outside ${identity.hostsPath}`);
  const parts = dir.slice(prefix.length).split('/');
  if (parts.length !== 2) return refuse(`${shown(dir)} is not a repository path (${identity.hostsPath}/<host>/<name>)`);
  const [host, name] = parts as [string, string];
  return checkHost(identity, host) ?? checkName(name) ?? allow({ verb, host, name });
}

const ARITY: Record<GateVerb, number> = { hello: 0, hosts: 0, session: 0, describe: 1, 'add-host': 1, 'ensure-repository': 2, hooks: 2 };

function decideVerb(words: string[], identity: GateIdentity): GateDecision {
  const [verb, ...args] = words as [string, ...string[]];
  if (!Object.hasOwn(ARITY, verb)) return refuse(`unknown verb ${shown(verb)}`);
  const gateVerb = verb as GateVerb;
  if (args.length !== ARITY[gateVerb]) return refuse(`${verb} takes ${ARITY[gateVerb]} argument(s), not ${args.length}`);
  switch (gateVerb) {
    case 'hello':
    case 'hosts':
    case 'session':
      return allow({ verb: gateVerb });
    case 'describe':
    case 'add-host':
      return checkHost(identity, args[0]!) ?? allow({ verb: gateVerb, host: args[0]! });
    case 'ensure-repository':
      return checkHost(identity, args[0]!) ?? checkName(args[1]!) ?? allow({ verb: gateVerb, host: args[0]!, name: args[1]! });
    case 'hooks': {
      const phase = args[1]! as HookPhase;
      if (!PHASES.includes(phase)) return refuse(`hook phase ${shown(args[1]!)} is not pre or post`);
      return checkHost(identity, args[0]!) ?? allow({ verb: gateVerb, host: args[0]!, phase });
    }
  }
}

/** What SSH_ORIGINAL_COMMAND asks, if the key enrolled for identity.host may have it. */
export function decideRequest(command: string | undefined, identity: GateIdentity): GateDecision {
  if (command === undefined) return refuse('interactive sessions are refused: this key only serves pacha');
  if (command.length > MAX_COMMAND_LENGTH) return refuse(`the command is longer than ${MAX_COMMAND_LENGTH} characters`);
  if (/[^\x20-\x7e]/.test(command)) return refuse('the command holds a control character, a newline or a non-ASCII byte');
  const git = /^git-(upload-pack|receive-pack) (.*)$/.exec(command);
  if (git) return decideGit(git[1] as 'upload-pack' | 'receive-pack', git[2]!, identity);
  const words = command.split(' ');
  if (words[0] !== GATE_WORD) return refuse(`unknown command ${shown(words[0] ?? '')}: this key only serves pacha`);
  if (words.length < 2 || words.some((w) => w === '')) return refuse('malformed pacha-gate command');
  return decideVerb(words.slice(1), identity);
}

/** One update a kept session asks for: always of the key's own host (the line names no host). */
export interface SessionUpdate {
  name: string;
  from: string;
  to: string;
  bytes: number;
}

export type SessionDecision = { allowed: true; update: SessionUpdate } | { allowed: false; reason: string };

/**
 * A kept session's request line (`apply-update NAME FROM TO BYTES`, without its newline):
 * the same rules as a command (printable ASCII, single spaces), a repository name pacha makes,
 * full object names, and a pack no larger than a one-round-trip update takes. Pure.
 */
export function decideSessionLine(line: string): SessionDecision {
  const no = (reason: string): SessionDecision => ({ allowed: false, reason });
  if (line.length > MAX_SESSION_LINE) return no(`the request is longer than ${MAX_SESSION_LINE} characters`);
  if (/[^\x20-\x7e]/.test(line)) return no('the request holds a control character or a non-ASCII byte');
  const words = line.split(' ');
  if (words[0] !== SESSION_UPDATE_WORD) return no(`unknown session request ${shown(words[0] ?? '')}`);
  if (words.length !== 5) return no(`${SESSION_UPDATE_WORD} takes 4 arguments, not ${words.length - 1}`);
  const [, name, from, to, bytes] = words as [string, string, string, string, string];
  const problem = repositoryNameProblem(name);
  if (problem) return no(`repository ${shown(name)} ${problem}`);
  if (!isObjectName(from) || !isObjectName(to)) return no('FROM and TO must be full object names');
  if (!/^(0|[1-9][0-9]{0,9})$/.test(bytes) || Number(bytes) > FAST_UPDATE_MAX_PACK_BYTES) {
    return no(`the pack size ${shown(bytes)} is not a number of bytes up to ${FAST_UPDATE_MAX_PACK_BYTES}`);
  }
  return { allowed: true, update: { name, from, to, bytes: Number(bytes) } };
}
