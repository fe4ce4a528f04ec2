// `pacha boot`, step 1: gather settings from every source, work out which host this is, and
// put key material on disk. Each step lands in the report with its source, status and time.
//
// Precedence, lowest first: defaults < config file < SSM fleet < SSM host < user data <
// PACHA_* environment < flags. The steps run in the order their inputs allow:
//   1. user data and instance data: local files, no network;
//   2. the settings without SSM (file, user data, environment, flags): they say whether to
//      ask IMDS (pacha.imds) and may give the SSM path and region;
//   3. IMDS: instance tags (pacha-host, pacha-ssm-path) and the region;
//   4. SSM fleet parameters: they may carry pacha.hostname, which ranks as an identity source;
//   5. identity (--hostname, user data, pacha.hostname, tag, instance data, system name);
//   6. SSM host parameters under <path>/hosts/<identity>: they need the identity, so a
//      pacha.hostname set there cannot choose the host (the identity wins over it);
//   7. the final merge, then key material written and pointed to by pacha.ssh.key /
//      pacha.ssh.known_hosts, and pacha.hostname set to the identity.
// pacha.imds, pacha.ssm.path and pacha.ssm.region set in SSM itself come too late to matter.
import os from 'node:os';
import { loadSettings, type LoadOptions } from '../config/load.js';
import { bootSourceLayers, keyFileLayers, type KeyFileSetting } from '../config/precedence.js';
import type { Layer, Origin, Settings } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { parseMasterList, pinnedKeyFor } from '../config/master-list.js';
import { chooseIdentity, type Identity, type IdentityKind } from '../identity.js';
import { imdsDisabledReason, imdsEndpoint, readImds, type ImdsResult } from './imds.js';
import { DEFAULT_INSTANCE_DATA_PATH, loadInstanceData, type InstanceData } from './instance-data.js';
import { writeKnownHosts, writePrivateKey } from './key-material.js';
import type { BackoffOptions } from '../backoff.js';
import { SourceUnreachableError } from '../errors.js';
import { stepRecorder, type BootStep } from './steps.js';
import { retryTransient, type TransientWait } from './transient.js';
import { checkSsmPath, chooseSsmRegion, hostPath, openSsm, type RegionChoice, type RetryOptions, type SsmSource } from './ssm.js';
import { DEFAULT_USER_DATA_PATH, loadUserData, userDataOrigin, type UserData } from './user-data.js';

export interface GatherOptions {
  /** --user-data FILE */
  userDataPath?: string;
  /** --instance-data FILE */
  instanceDataPath?: string;
  /** --hostname NAME */
  hostname?: string;
  /** -c FILE */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  flags?: LoadOptions['flags'];
  /** os.hostname() unless given (tests). */
  systemHostname?: string;
  /** The SSM endpoint; otherwise the SDK's AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL, else AWS. */
  ssmEndpoint?: string;
  ssmRetry?: RetryOptions;
  /** --dry-run: nothing is written (key material is reported as skipped). */
  dryRun?: boolean;
  /** Filled as steps run, so a caller still has the partial report when a step throws. */
  report?: BootStep[];
  /** When boot started (performance.now()): transient source failures are retried until pacha.boot.timeout after it. */
  startedAt?: number;
  /** Told of each transient failure that will be retried (boot logs it). */
  onRetry?: (what: string, attempt: number, error: unknown, delayMs: number) => void;
  /** Backoff of those retries (tests). */
  retryBackoff?: BackoffOptions;
}

export interface GatheredBoot {
  settings: Settings;
  identity: Identity;
  /** The instance id: IMDS's, else cloud-init's instance data's; undefined off a cloud. */
  instance?: string | undefined;
  report: BootStep[];
}

export async function gatherBootSettings(options: GatherOptions = {}): Promise<GatheredBoot> {
  const env = options.env ?? process.env;
  const startedAt = options.startedAt ?? performance.now();
  const report = options.report ?? [];
  const step = stepRecorder(report);
  const merge = (extraLayers: Layer[]): Promise<Settings> =>
    loadSettings({ configPath: options.configPath, env, flags: options.flags, extraLayers });

  // 1. Local files.
  const userDataPath = options.userDataPath ?? DEFAULT_USER_DATA_PATH;
  const userData: UserData = await step<UserData>('user-data', userDataPath, async () => {
    const result = await loadUserData(userDataPath);
    if (result.status === 'absent') return { value: result, status: 'absent', detail: 'no user data file' };
    if (result.status === 'none') return { value: result, status: 'ok', detail: `no #cloud-config part with pacha: (${result.parts} part(s))` };
    const keys = result.layer.entries.map((e) => e.key);
    if (result.hostname) keys.unshift('hostname');
    return { value: result, status: 'ok', detail: `pacha:${result.part ? ` in ${result.part}` : ''}: ${keys.join(', ') || 'nothing'}` };
  });
  const userDataLayers = userData.status === 'found' ? [userData.layer] : [];

  const instanceDataPath = options.instanceDataPath ?? DEFAULT_INSTANCE_DATA_PATH;
  const instanceData: InstanceData = await step<InstanceData>('instance-data', instanceDataPath, async () => {
    const result = await loadInstanceData(instanceDataPath);
    if (result.status === 'absent') return { value: result, status: 'absent', detail: 'no instance data file' };
    const facts = [result.localHostname && `local_hostname ${result.localHostname}`, result.region && `region ${result.region}`];
    return { value: result, status: 'ok', detail: facts.filter(Boolean).join(', ') || 'no v1 facts pacha uses' };
  });

  // 2. Settings without SSM.
  const early = await step<Settings>('settings', '', async () => {
    const settings = await merge(userDataLayers);
    const file = settings.configFile;
    return { value: settings, status: file?.found ? 'ok' : 'absent', detail: file?.found ? 'config file read' : 'no config file', source: file?.path };
  });

  // What passes by itself is waited for, within pacha.boot.timeout from the start of boot.
  const timeoutSeconds = early.get('pacha.boot.timeout') ?? 300;
  const wait: TransientWait = {
    deadline: startedAt + timeoutSeconds * 1000,
    timeoutSeconds,
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    ...(options.retryBackoff ? { backoff: options.retryBackoff } : {}),
  };

  // 3. EC2 instance metadata.
  const disabled = imdsDisabledReason(early.get('pacha.imds'), env);
  const endpoint = imdsEndpoint(env);
  const imds: ImdsResult = await step<ImdsResult>('imds', endpoint, async () => {
    if (disabled) return { value: { status: 'disabled', reason: disabled }, status: 'skipped', detail: disabled };
    // SSM needs a region that only the metadata service can give: then a service that did
    // not answer in time (a loaded instance) is waited for too, not taken for "not on EC2".
    const instanceRegion = instanceData.status === 'found' && instanceData.region ? { region: instanceData.region, from: 'instance data' } : undefined;
    const needsRegion = early.get('pacha.ssm.path') !== undefined && !chooseSsmRegion(early.get('pacha.ssm.region'), env, instanceRegion);
    const result = await retryTransient(
      `the EC2 metadata service ${endpoint}`,
      async () => {
        const r = await readImds({ endpoint });
        if (r.status !== 'disabled' && r.transient) throw new SourceUnreachableError(`the EC2 metadata service ${endpoint} failed: ${r.transient}`, { code: 'EIMDSUNAVAILABLE' });
        const slow = (r.status === 'absent' && r.timedOut === true) || (r.status === 'found' && !r.region && r.problems.some((p) => p.endsWith('no answer in time')));
        if (needsRegion && slow) {
          throw new SourceUnreachableError(`the EC2 metadata service ${endpoint} did not answer in time, and SSM needs the region it gives`, { code: 'EIMDSUNAVAILABLE' });
        }
        return r;
      },
      wait,
    );
    if (result.status !== 'found') return { value: result, status: 'absent', detail: result.status === 'absent' ? result.reason : '' };
    const facts = [
      result.instanceId && `instance ${result.instanceId}`,
      result.region && `region ${result.region}`,
      result.hostTag && `tag pacha-host ${result.hostTag}`,
      result.ssmPathTag && `tag pacha-ssm-path ${result.ssmPathTag}`,
      ...result.problems,
    ];
    return { value: result, status: 'ok', detail: facts.filter(Boolean).join(', ') };
  });
  const imdsFound = imds.status === 'found' ? imds : undefined;
  const instanceFound = instanceData.status === 'found' ? instanceData : undefined;

  // 4. SSM fleet parameters.
  let ssm: SsmSource | undefined;
  let ssmPath: { path: string; from: string } | undefined;
  try {
    const fleet = await step<Layer | undefined>('ssm-fleet', early.get('pacha.ssm.path') ?? imdsFound?.ssmPathTag ?? '', async () => {
      ssmPath = chooseSsmPath(early, imdsFound?.ssmPathTag);
      if (!ssmPath) return { value: undefined, status: 'skipped', detail: 'no SSM path (ssm_path, pacha.ssm.path or the tag pacha-ssm-path)' };
      const instanceRegion: RegionChoice | undefined = imdsFound?.region
        ? { region: imdsFound.region, from: 'the EC2 instance metadata' }
        : instanceFound?.region
          ? { region: instanceFound.region, from: `instance data ${instanceFound.path}` }
          : undefined;
      const region = chooseSsmRegion(early.get('pacha.ssm.region'), env, instanceRegion);
      if (!region) {
        throw new ConfigError(`no AWS region to read the SSM path ${ssmPath.path} (from ${ssmPath.from})`, {
          code: 'ESSMREGION',
          hint: 'set pacha.ssm.region or AWS_REGION',
        });
      }
      ssm = await openSsm({ region, ...(options.ssmEndpoint ? { endpoint: options.ssmEndpoint } : {}) });
      const fleetPath = ssmPath.path;
      const opened = ssm;
      const layer = await retryTransient(`SSM (${fleetPath}, region ${region.region})`, () => opened.fleet(fleetPath, options.ssmRetry), wait);
      const detail = `${layer.entries.length} parameter(s), path from ${ssmPath.from}, region ${region.region} (${region.from})`;
      return { value: layer, status: 'ok', detail, source: ssmPath.path };
    });

    // 5. Identity.
    const beforeHost = await merge(bootSourceLayers({ ssmFleet: fleet, userData: userDataLayers[0] }));
    const identity: Identity = await step<Identity>('identity', '', async () => {
      const setting = beforeHost.get('pacha.hostname');
      const chosen = chooseIdentity({
        flag: options.hostname,
        userData: userData.status === 'found' && userData.hostname ? { hostname: userData.hostname, path: userData.path } : undefined,
        setting: setting ? { hostname: setting, origin: beforeHost.origin('pacha.hostname') } : undefined,
        instanceTag: imdsFound?.hostTag,
        instanceData: instanceFound?.localHostname ? { localHostname: instanceFound.localHostname, path: instanceFound.path } : undefined,
        system: options.systemHostname ?? os.hostname(),
      });
      return { value: chosen, status: 'ok', detail: chosen.name, source: chosen.source };
    });

    // 6. SSM host parameters.
    const hostSsmPath = ssmPath as { path: string; from: string } | undefined; // assigned inside the fleet step
    const host = await step<Layer | undefined>('ssm-host', hostSsmPath ? hostPath(hostSsmPath.path, identity.name) : '', async () => {
      if (!ssm || !hostSsmPath) return { value: undefined, status: 'skipped', detail: 'no SSM path' };
      const opened = ssm;
      const layer = await retryTransient(`SSM (${hostPath(hostSsmPath.path, identity.name)})`, () => opened.host(hostSsmPath.path, identity.name, options.ssmRetry), wait);
      if (layer.entries.length === 0 && (fleet?.entries.length ?? 0) === 0) {
        const path = hostSsmPath.path;
        throw new ConfigError(`no parameters under the SSM path ${path} (from ${hostSsmPath.from}), nor under ${hostPath(path, identity.name)}`, {
          code: 'ESSMEMPTY',
          hint: 'check the path and the region, or create the parameters (e.g. <path>/pacha.host)',
        });
      }
      return { value: layer, status: 'ok', detail: `${layer.entries.length} parameter(s)` };
    });

    // 7. Final settings, then key material.
    const sourceLayers = bootSourceLayers({ ssmFleet: fleet, ssmHost: host, userData: userDataLayers[0] });
    let settings = await merge(sourceLayers);
    const keyLayers = await step<WrittenKey[]>('keys', '', async () => {
      if (options.dryRun && hasKeyMaterial(settings)) return { value: [], status: 'skipped', detail: 'dry run: nothing written' };
      const written = await writeKeyMaterial(settings);
      if (written.length === 0) return { value: written, status: 'absent', detail: 'no key material' };
      return { value: written, status: 'ok', detail: written.map((w) => `${w.key} = ${w.file}`).join(', ') };
    });
    settings = await placeKeyLayers(merge, sourceLayers, keyLayers, settings);
    const identityOrigin: Record<IdentityKind, () => Origin> = {
      flag: () => 'flag:--hostname',
      'user-data': () => userDataOrigin(userDataPath),
      setting: () => beforeHost.origin('pacha.hostname'),
      'instance-tag': () => 'imds:tags/instance/pacha-host',
      'instance-data': () => `instance-data:${instanceDataPath}`,
      system: () => 'system:hostname',
    };
    const origin = identityOrigin[identity.kind]();
    settings = settings.with([{ source: 'identity', entries: [{ key: 'pacha.hostname', value: identity.name, origin }] }]);
    return { settings, identity, report, instance: imdsFound?.instanceId ?? instanceFound?.instanceId };
  } finally {
    ssm?.close();
  }
}

/** The SSM path: user data ssm_path / pacha.ssm.path (by precedence), else the instance tag. */
export function chooseSsmPath(settings: Settings, tag: string | undefined): { path: string; from: string } | undefined {
  const setting = settings.get('pacha.ssm.path');
  if (setting !== undefined) {
    const from = settings.origin('pacha.ssm.path');
    return { path: checkSsmPath(setting, from), from };
  }
  if (tag !== undefined) return { path: checkSsmPath(tag, 'the EC2 instance tag pacha-ssm-path'), from: 'the EC2 instance tag pacha-ssm-path' };
  return undefined;
}

function hasKeyMaterial(settings: Settings): boolean {
  return settings.get('pacha.ssh.private_key') !== undefined || settings.get('pacha.ssh.host_key') !== undefined;
}

type WrittenKey = KeyFileSetting;

async function writeKeyMaterial(settings: Settings): Promise<WrittenKey[]> {
  const written: WrittenKey[] = [];
  const state = settings.require('pacha.state.path');
  const privateKey = settings.get('pacha.ssh.private_key');
  if (privateKey !== undefined) {
    const origin = settings.origin('pacha.ssh.private_key');
    written.push({ key: 'pacha.ssh.key', file: await writePrivateKey(state, privateKey, origin), origin });
  }
  const hostKeys = settings.get('pacha.ssh.host_key');
  // A local master (the default) has no host key to pin; with several masters, the n-th key is the n-th SSH master's.
  const ssh = parseMasterList(settings.require('pacha.host')).flatMap((s) => (s.kind === 'ssh' ? [s] : []));
  const origin = settings.origin('pacha.ssh.host_key');
  let file: string | undefined;
  for (const [index, master] of ssh.entries()) {
    const hostKey = pinnedKeyFor(hostKeys, index);
    if (hostKey === undefined) continue;
    const port = master.port ?? settings.require('pacha.ssh.port');
    file = await writeKnownHosts(state, { host: master.host, port, hostKey, source: origin });
  }
  if (file) written.push({ key: 'pacha.ssh.known_hosts', file, origin });
  return written;
}

/** The settings once the files written from key material are in, each where its material ranks (config/precedence.ts). */
async function placeKeyLayers(
  merge: (layers: Layer[]) => Promise<Settings>,
  sourceLayers: Layer[],
  written: WrittenKey[],
  settings: Settings,
): Promise<Settings> {
  if (written.length === 0) return settings;
  const { layers, onTop } = keyFileLayers(sourceLayers, written, (key) => settings.origin(key));
  const merged = await merge(layers);
  return onTop.length > 0 ? merged.with(onTop) : merged;
}
