// Which host this is: the first name found, in the order issue 4 gives. Pure: the caller
// gathers the candidates (flags, user data, settings, EC2 tags, instance data, os.hostname()).
import { checkHostName } from './config/values.js';
import { ConfigError } from './errors.js';

export type IdentityKind = 'flag' | 'user-data' | 'setting' | 'instance-tag' | 'instance-data' | 'system';

export interface IdentityCandidates {
  /** --hostname NAME */
  flag?: string | undefined;
  /** `hostname:` of the user data's pacha: mapping, and the file it came from. */
  userData?: { hostname: string; path: string } | undefined;
  /** pacha.hostname from any settings source, with its origin (`file:/etc/pacha.conf`, `ssm:…`). */
  setting?: { hostname: string; origin: string } | undefined;
  /** The EC2 instance tag pacha-host. */
  instanceTag?: string | undefined;
  /** v1.local_hostname of cloud-init's instance data, and the file it came from. */
  instanceData?: { localHostname: string; path: string } | undefined;
  /** os.hostname(), passed in so this stays pure. */
  system: string;
}

export interface Identity {
  name: string;
  kind: IdentityKind;
  /** Where the name came from, for messages and the boot report. */
  source: string;
}

/** The candidates in rank order, each with where it came from; absent ones left out. */
export function rankedCandidates(candidates: IdentityCandidates): Identity[] {
  const ranked: Array<{ name: string | undefined; kind: IdentityKind; source: string }> = [
    { name: candidates.flag, kind: 'flag', source: '--hostname' },
    { name: candidates.userData?.hostname, kind: 'user-data', source: `user data ${candidates.userData?.path}` },
    { name: candidates.setting?.hostname, kind: 'setting', source: `pacha.hostname (${candidates.setting?.origin})` },
    { name: candidates.instanceTag, kind: 'instance-tag', source: 'the EC2 instance tag pacha-host' },
    {
      name: candidates.instanceData?.localHostname,
      kind: 'instance-data',
      source: `v1.local_hostname of instance data ${candidates.instanceData?.path}`,
    },
    { name: candidates.system, kind: 'system', source: 'the system host name' },
  ];
  return ranked
    .map((c) => ({ ...c, name: c.name?.trim() }))
    .filter((c): c is Identity => c.name !== undefined && c.name !== '');
}

/**
 * The first candidate found, validated as a host name. A bad name is an error rather than a
 * reason to fall through to the next one: silently becoming another host would be worse.
 */
export function chooseIdentity(candidates: IdentityCandidates, options: { hint?: string } = {}): Identity {
  const chosen = rankedCandidates(candidates)[0];
  if (!chosen) {
    throw new ConfigError('no host name: every identity source is empty', {
      code: 'ENOHOSTNAME',
      hint: options.hint ?? 'pass --hostname NAME, or set hostname: in the user data or pacha.hostname',
    });
  }
  const problem = checkHostName(chosen.name);
  if (problem) {
    throw new ConfigError(`the host name '${chosen.name}' from ${chosen.source} ${problem}`, {
      code: 'EBADHOSTNAME',
      hint: options.hint ?? 'fix that source, or pass --hostname NAME',
    });
  }
  return chosen;
}
