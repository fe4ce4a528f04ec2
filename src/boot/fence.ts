// Identity fencing: a host name has at most one live writer. Pure: the caller reads the
// signals the master holds (claims.ts: each repository's last commit and heartbeat, with the
// instance their trailers name) and acts on the verdict.
//
//   the master lacks the host, pacha.boot.new_host = refuse   → unknown-host (exit 2)
//   no signal names an instance, or the newest names this one → clear (a reboot, a re-run)
//   the newest signal of another instance is older than fence → clear (its holder aged out)
//   … within fence, --take-over                               → take-over (recorded)
//   … within fence                                             → refused (exit 3)
//
// The signals are what the host's own key wrote, so a forged one can only make a boot
// refused (--take-over answers that), never let one through that the real record would stop.
// Times are the writers' clocks: a signal a little in the future (skew) counts as now; one
// further ahead than the fence itself is not believed (a broken clock or a forged date would
// otherwise fence the name forever) and is named in the reason.

export interface Signal {
  repository: string;
  kind: 'push' | 'heartbeat';
  instance?: string | undefined;
  boot?: string | undefined;
  time: Date;
}

export interface Claimant {
  instance?: string | undefined;
  boot?: string | undefined;
}

export interface FenceInput {
  host: string;
  me: Claimant;
  /** undefined when the master has no such host. */
  signals: readonly Signal[] | undefined;
  now: Date;
  fenceMs: number;
  takeOver: boolean;
  newHost: 'allow' | 'refuse';
}

export type FenceVerdict = 'clear' | 'take-over' | 'refused' | 'unknown-host';

export interface FenceDecision {
  verdict: FenceVerdict;
  /** One sentence, for the boot report and the error. */
  reason: string;
  /** The newest believable signal of another instance, when there is one. */
  holder?: Signal;
  /** Signals dated too far in the future to believe. */
  ignored: Signal[];
}

/** "3 min", "2 h 5 min", "4 d": an age for messages. Pure. */
export function formatAge(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 1) return `${Math.max(0, Math.round(ms / 1000))} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} d`;
}

export function describeSignal(s: Signal, now: Date): string {
  const age = now.getTime() - s.time.getTime();
  return `${s.kind === 'push' ? 'last push' : 'heartbeat'} ${s.time.toISOString()} (${age <= 0 ? 'now' : `${formatAge(age)} ago`}, ${s.repository})`;
}

export function decideFence(input: FenceInput): FenceDecision {
  const { host, me, now, fenceMs } = input;
  if (input.signals === undefined) {
    return input.newHost === 'refuse'
      ? { verdict: 'unknown-host', reason: `the master has no host '${host}' and pacha.boot.new_host = refuse`, ignored: [] }
      : { verdict: 'clear', reason: `no host '${host}' on the master yet`, ignored: [] };
  }
  const ignored = input.signals.filter((s) => s.time.getTime() - now.getTime() > fenceMs);
  const believed = input.signals.filter((s) => !ignored.includes(s) && s.instance);
  const aside = ignored.length > 0 ? `; ${ignored.length} record(s) dated more than ${formatAge(fenceMs)} ahead were not believed` : '';
  const newest = [...believed].sort((a, b) => b.time.getTime() - a.time.getTime())[0];
  if (!newest) return { verdict: 'clear', reason: `no record on the master names an instance for ${host}${aside}`, ignored };
  if (me.instance !== undefined && newest.instance === me.instance) {
    return { verdict: 'clear', reason: `${host} is held by this instance (${me.instance})${aside}`, ignored };
  }
  const age = now.getTime() - newest.time.getTime();
  const who = `instance ${newest.instance}`;
  if (age > fenceMs) {
    return {
      verdict: 'clear',
      reason: `${host} was held by ${who}, silent for ${formatAge(age)} (more than pacha.boot.fence, ${formatAge(fenceMs)}): aged out${aside}`,
      holder: newest,
      ignored,
    };
  }
  const seen = `${who}, ${describeSignal(newest, now)}`;
  if (input.takeOver) return { verdict: 'take-over', reason: `--take-over: ${host} taken over from ${seen}${aside}`, holder: newest, ignored };
  return { verdict: 'refused', reason: `${host} is held by ${seen}, within pacha.boot.fence (${formatAge(fenceMs)})${aside}`, holder: newest, ignored };
}

/** The take-over record's message: a commit on each path's branch, so `pacha log` shows it. Pure. */
export function takeOverMessage(host: string, me: Claimant, holder: Signal): string {
  return `pacha: ${me.instance ? `instance ${me.instance}` : 'this instance'} took over ${host} from instance ${holder.instance} (its ${holder.kind === 'push' ? 'last push' : 'last heartbeat'} ${holder.time.toISOString()})`;
}
