// What `pacha fleet` knows of the master: each host's repositories and their refs' times and
// provenance. Types only: the SSH master's script (wire.ts) and the S3 master's pointers
// (master/s3/fleet-read.ts) both produce it; state.ts decides from it.
import type { Provenance } from '../store/provenance.js';

export interface RefTime {
  ref: string;
  /** Committer date, unix seconds. */
  time: number;
}

export interface RepoRefs {
  name: string;
  main?: RefTime & { by: Provenance };
  heartbeat?: RefTime & { by: Provenance };
  diverged: RefTime[];
  /** Commit times of main since the timeline's start, unix seconds. */
  times: number[];
  /** git could not read it (e.g. "dubious ownership": run by another user than the repositories' owner). */
  unreadable?: boolean;
  /** Why, when the master knows better than the SSH default (an S3 pointer that is not pacha's). */
  why?: string;
}

export interface HostRefs {
  host: string;
  repos: RepoRefs[];
}

export interface FleetSnapshot {
  /** The master's clock when it answered (unix seconds). */
  masterTime: number;
  hosts: HostRefs[];
}

