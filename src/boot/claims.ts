// Identity fencing, the acting half (fence.ts decides). Reading: each of the host's
// repositories on the master gives two signals, its branch's last commit and its heartbeat
// (refs/pacha/heartbeat), each with the instance its trailers name. They are fetched with
// plain git (ls-remote, then a depth-1 fetch into a private scratch repository), so this
// works alike on a local master, a plain SSH account and through the gate (upload-pack only).
// Recording: boot sends its heartbeat at once (the record of which instance holds the name),
// and a take-over adds a commit to each path's branch, pushed normally, so the history says
// who took the name from whom.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, MasterUnreachableError, isPachaError } from '../errors.js';
import { nearest } from '../config/suggest.js';
import type { HostListing, Master } from '../master/master.js';
import { NO_DROP_RETRY, retryDroppedConnections, type RetryDropsOptions } from '../master/transient.js';
import { BRANCH } from '../store/commit.js';
import { gitAt, revParse, type Git } from '../store/git.js';
import { HEARTBEAT_REF, sendHeartbeat } from '../store/heartbeat.js';
import { parseTrailerLines, parseTrailers, withTrailers } from '../store/provenance.js';
import type { Store } from '../store/store.js';
import { decideFence, takeOverMessage, type Claimant, type FenceDecision, type Signal } from './fence.js';

const SIGNAL_REFS: ReadonlyArray<[Signal['kind'], string]> = [
  ['push', BRANCH],
  ['heartbeat', HEARTBEAT_REF],
];

/**
 * Every signal the master holds for a host's repositories (none for a repository never
 * pushed). `retry`: each git call that the master's sshd dropped is made again (boot).
 */
export async function readSignals(master: Master, host: string, repositories: readonly string[], retry: RetryDropsOptions = NO_DROP_RETRY): Promise<Signal[]> {
  if (repositories.length === 0) return [];
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'pacha-fence-'));
  try {
    const git = gitAt({ gitDir: scratch, env: master.gitEnv() });
    let initialized = false;
    const signals: Signal[] = [];
    for (const [index, repository] of repositories.entries()) {
      const stamped = await stampedSignals(master, host, repository, retry);
      if (stamped) {
        signals.push(...stamped);
        continue;
      }
      if (!initialized) await git.raw(['init', '-q', '--bare']);
      initialized = true;
      const local = (kind: string) => `refs/fence/${index}/${kind}`;
      const wanted = await fetchSignals(master, host, repository, git, scratch, local, retry);
      for (const [kind] of wanted) {
        const [seconds, ...message] = (await git.raw(['log', '-1', '--format=%ct%n%B', local(kind)])).split('\n');
        const { instance, boot } = parseTrailers(message.join('\n'));
        signals.push({ repository, kind, instance, boot, time: new Date(Number(seconds) * 1000) });
      }
    }
    return signals;
  } catch (error) {
    if (isPachaError(error)) throw error;
    throw new MasterUnreachableError(`could not read who holds ${host} on ${master.label}: ${(error as Error).message.split('\n')[0]}`, {
      code: 'EFENCEREAD',
      hint: 'boot reads each repository\'s last commit and heartbeat before it claims the name; check the master, then boot again',
      cause: error,
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A repository's signals read from the refs' stamps where the master keeps them (S3: the
 * pointer, one request, no git); undefined when it does not, or a signal ref lacks one.
 */
async function stampedSignals(master: Master, host: string, repository: string, retry: RetryDropsOptions): Promise<Signal[] | undefined> {
  if (!master.readRefStamps) return undefined;
  const read = master.readRefStamps.bind(master);
  const refs = await retryDroppedConnections(() => read(host, repository), retry);
  const signals: Signal[] = [];
  for (const [kind, ref] of SIGNAL_REFS) {
    if (!refs[ref]) continue;
    const stamp = refs[ref].stamp;
    if (!stamp) return undefined;
    const { instance, boot } = parseTrailerLines(stamp.trailers);
    signals.push({ repository, kind, instance, boot, time: new Date(stamp.time * 1000) });
  }
  return signals;
}

/** Fetch a repository's signal refs that exist into `scratch` (`git` is on it: refs/fence/<index>/<kind>); those it had. */
async function fetchSignals(
  master: Master,
  host: string,
  repository: string,
  git: Git,
  scratch: string,
  local: (kind: string) => string,
  retry: RetryDropsOptions,
): Promise<typeof SIGNAL_REFS> {
  if (master.copyRefs) {
    const copy = master.copyRefs.bind(master);
    const kinds = new Map(SIGNAL_REFS.map(([kind, ref]) => [ref, kind]));
    const copied = await retryDroppedConnections(() => copy(host, repository, scratch, (ref) => (kinds.has(ref) ? local(kinds.get(ref)!) : undefined), { depth: 1 }), retry);
    return SIGNAL_REFS.filter(([, ref]) => ref in copied);
  }
  const url = master.repositoryUrl(host, repository);
  const present = new Set(
    (await retryDroppedConnections(() => git.raw(['ls-remote', url, ...SIGNAL_REFS.map(([, ref]) => ref)]), retry))
      .split('\n')
      .map((line) => line.split('\t')[1])
      .filter(Boolean),
  );
  const wanted = SIGNAL_REFS.filter(([, ref]) => present.has(ref));
  if (wanted.length > 0) await retryDroppedConnections(() => git.raw(['fetch', '-q', '--no-tags', '--depth=1', url, ...wanted.map(([kind, ref]) => `+${ref}:${local(kind)}`)]), retry);
  return wanted;
}

export interface FenceOptions {
  master: Master;
  host: string;
  listing: HostListing | undefined;
  me: Claimant;
  fenceSeconds: number;
  newHost: 'allow' | 'refuse';
  takeOver: boolean;
  now?: Date;
  /** The fence read's git calls, when the master drops their connection. */
  retry?: RetryDropsOptions;
}

/** Boot's fence step: the decision, or the error that stops the boot (refused: exit 3; unknown host: exit 2). */
export async function checkFence(options: FenceOptions): Promise<FenceDecision> {
  const { master, host, listing } = options;
  const now = options.now ?? new Date();
  const signals = listing ? await readSignals(master, host, listing.repositories, options.retry) : undefined;
  const decision = decideFence({ host, me: options.me, signals, now, fenceMs: options.fenceSeconds * 1000, takeOver: options.takeOver, newHost: options.newHost });
  if (decision.verdict === 'refused') {
    throw new MasterUnreachableError(`boot refused: ${decision.reason}`, {
      code: 'EFENCED',
      hint:
        `another instance (${decision.holder!.instance}) is writing as ${host}: check the host name in the user data; ` +
        'if that instance is gone for good, boot again with `pacha boot --take-over` (recorded in the history)',
      details: { holder: decision.holder!.instance, lastSeen: decision.holder!.time.toISOString(), kind: decision.holder!.kind },
    });
  }
  if (decision.verdict === 'unknown-host') {
    const hosts = await master.listHosts();
    const close = nearest(host, hosts);
    throw new ConfigError(`${master.label} has no host '${host}', and pacha.boot.new_host = refuse: not starting a new host`, {
      code: 'EUNKNOWNHOST',
      hint: `${close ? `did you mean '${close}'? ` : ''}${hosts.length ? `the master has: ${hosts.join(', ')}` : `the master has no hosts under ${master.hostsPath}`}. Fix the host name, or set pacha.boot.new_host = allow to start this one`,
    });
  }
  return decision;
}

/**
 * After boot acted: on a take-over, one commit on each tracked path's branch saying so (its
 * tree unchanged), pushed normally; then this instance's heartbeat for every path, which
 * names it as the holder. Returns one line per path for the boot report.
 */
/**
 * `masterId`: the pacha.host entry of `master` when it is not the first (its own acknowledged
 * ref). `retry`: a push or heartbeat whose connection the master dropped is sent again.
 */
export async function recordClaim(store: Store, master: Master, decision: FenceDecision, now = new Date(), masterId?: string, retry: RetryDropsOptions = NO_DROP_RETRY): Promise<string[]> {
  const facts = await store.hostFacts();
  const lines: string[] = [];
  for (const tracked of await store.list()) {
    if (decision.verdict === 'take-over' && decision.holder) {
      const message = withTrailers(takeOverMessage(store.host, facts, decision.holder), { ...facts, origin: 'boot', takeOver: decision.holder.instance });
      const made = await store.writing(tracked, async () => {
        const git = store.git(tracked);
        const head = await revParse(git, BRANCH);
        if (!head) return false;
        const sha = (await git.raw(['commit-tree', `${head}^{tree}`, '-p', head, '-m', message])).trim();
        await git.raw(['update-ref', '-m', 'pacha take-over', BRANCH, sha, head]);
        return true;
      });
      if (made) {
        const pushed = await retryDroppedConnections(() => store.push(tracked, master, masterId), retry);
        lines.push(`${tracked.location}: take-over recorded (${pushed.status})`);
      }
    }
    // The daemon beats again at its start; a beat lost here only delays the record.
    const beat = await retryDroppedConnections(() => sendHeartbeat(store, tracked, master, now, 'boot'), retry).catch((error: unknown) => (error as Error).message);
    if (beat === 'sent') lines.push(`${tracked.location}: held by ${facts.instance ?? 'this instance'}`);
    else if (beat !== 'not-pushed') lines.push(`${tracked.location}: heartbeat not sent (${beat})`);
  }
  return lines;
}
