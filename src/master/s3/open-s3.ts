// Opening an S3 master from the settings: the bucket and prefix from its pacha.host entry, the region
// from pacha.s3.region, else AWS_REGION / AWS_DEFAULT_REGION, else the instance's region
// (the metadata service), the endpoint from pacha.s3.endpoint or AWS_ENDPOINT_URL_S3.
import { parseS3Location } from '../../config/s3-url.js';
import type { Settings } from '../../config/settings.js';
import { ConfigError } from '../../errors.js';
import { S3Master } from './s3-master.js';
import { DEFAULT_COMPACT_AFTER, DEFAULT_S3_TIMEOUT_SECONDS } from './settings.js';

/** pacha.s3.region, then the environment; undefined when only the instance can tell. Pure. */
export function chooseS3Region(setting: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return setting?.trim() || env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined;
}

async function instanceRegion(settings: Settings): Promise<string | undefined> {
  const { imdsDisabledReason, readImds } = await import('../../sources/imds.js');
  if (imdsDisabledReason(settings.get('pacha.imds'))) return undefined;
  const result = await readImds();
  return result.status === 'found' ? result.region : undefined;
}

/** Open the S3 master named by `host` (one entry of pacha.host). */
export async function openS3Master(host: string, settings: Settings, stateDir: string): Promise<S3Master> {
  const endpoint = settings.get('pacha.s3.endpoint') || process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
  const region = chooseS3Region(settings.get('pacha.s3.region'), process.env) ?? (await instanceRegion(settings)) ?? (endpoint ? 'us-east-1' : undefined);
  if (!region) {
    throw new ConfigError(`no AWS region for the master ${host}`, {
      code: 'ES3NOREGION',
      hint: "set pacha.s3.region to the bucket's region (or AWS_REGION); on EC2 the instance's region is used when the metadata service answers",
    });
  }
  const master = new S3Master({
    location: parseS3Location(host),
    stateDir,
    region,
    endpoint,
    timeoutSeconds: settings.get('pacha.s3.timeout') ?? DEFAULT_S3_TIMEOUT_SECONDS,
    compactAfter: settings.get('pacha.s3.compact_after') ?? DEFAULT_COMPACT_AFTER,
    instance: process.env.PACHA_INSTANCE_ID || settings.get('pacha.hostname') || '',
    // The same line git's helper writes for its own retries (remote-helper.ts).
    onRetry: (what, attempt, _error, delayMs) => void process.stderr.write(`pacha-s3: ${what}: S3 is busy or unavailable; retry ${attempt} in ${delayMs} ms\n`),
  });
  await master.prepare();
  return master;
}
