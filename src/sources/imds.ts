// EC2 instance metadata, IMDSv2: a session token by PUT, then a few GETs with it.
// Off EC2 nothing answers at 169.254.169.254, so the whole exchange has one deadline
// (IMDS_BUDGET_MS): boot loses at most that much to this source, never more.
// `got` is imported only when the service is actually asked (cold start).
import type { Got } from 'got';

export const DEFAULT_IMDS_ENDPOINT = 'http://169.254.169.254';
/** The whole IMDS exchange fits in this, token and reads together (issue 4: at most 2 s). */
export const IMDS_BUDGET_MS = 1800;
const TOKEN_TTL_SECONDS = '300';

export interface ImdsFacts {
  instanceId: string | undefined;
  localHostname: string | undefined;
  region: string | undefined;
  /** The instance tag pacha-host (needs "tags in instance metadata" enabled; 404 = no tag). */
  hostTag: string | undefined;
  /** The instance tag pacha-ssm-path. */
  ssmPathTag: string | undefined;
}

export type ImdsResult =
  | { status: 'disabled'; reason: string }
  /** Nothing usable answered: not on EC2, or IMDS switched off for this instance. */
  /** `timedOut`: the token request got no answer in time (off EC2, or a slow metadata service under load). */
  | { status: 'absent'; endpoint: string; reason: string; transient?: string; timedOut?: boolean }
  /** `transient`: the service answered 429 or 5xx to something (it is there, but throttling or failing): worth another try. */
  | ({ status: 'found'; endpoint: string; problems: string[]; transient?: string } & ImdsFacts);

/** Throttling or a server-side failure: the service is there and may answer the next time. */
const isTransientStatus = (status: number): boolean => status === 429 || status >= 500;

/** Why IMDS is not to be asked, or undefined when it is. Pure. */
export function imdsDisabledReason(imdsSetting: boolean | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (imdsSetting === false) return 'pacha.imds is false';
  if ((env.AWS_EC2_METADATA_DISABLED ?? '').trim().toLowerCase() === 'true') return 'AWS_EC2_METADATA_DISABLED=true';
  return undefined;
}

export function imdsEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.PACHA_IMDS_ENDPOINT?.trim() || DEFAULT_IMDS_ENDPOINT).replace(/\/+$/, '');
}

const PATHS: Record<keyof ImdsFacts, string> = {
  instanceId: 'meta-data/instance-id',
  localHostname: 'meta-data/local-hostname',
  region: 'meta-data/placement/region',
  hostTag: 'meta-data/tags/instance/pacha-host',
  ssmPathTag: 'meta-data/tags/instance/pacha-ssm-path',
};

export interface ReadImdsOptions {
  endpoint?: string;
  budgetMs?: number;
}

/** Ask the metadata service; never throws for a service that is missing or slow. */
export async function readImds(options: ReadImdsOptions = {}): Promise<ImdsResult> {
  const endpoint = options.endpoint ?? imdsEndpoint();
  const deadline = Date.now() + (options.budgetMs ?? IMDS_BUDGET_MS);
  const { got } = await import('got');
  // One deadline for every request; no retries: a retry would not fit in the budget anyway.
  const client: Got = got.extend({
    prefixUrl: `${endpoint}/latest`,
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
  });
  const timeout = (): { request: number } => ({ request: Math.max(1, deadline - Date.now()) });

  let token: string;
  try {
    const response = await client.put('api/token', { timeout: timeout(), headers: { 'X-aws-ec2-metadata-token-ttl-seconds': TOKEN_TTL_SECONDS } });
    if (response.statusCode !== 200 || response.body.trim() === '') {
      const reason = `the token request was answered with HTTP ${response.statusCode}`;
      return { status: 'absent', endpoint, reason, ...(isTransientStatus(response.statusCode) ? { transient: reason } : {}) };
    }
    token = response.body.trim();
  } catch (error) {
    const reason = `no token: ${describeFailure(error)}`;
    return { status: 'absent', endpoint, reason, ...(errnoOf(error) === 'ETIMEDOUT' ? { timedOut: true } : {}) };
  }

  const problems: string[] = [];
  let transient: string | undefined;
  const read = async (path: string): Promise<string | undefined> => {
    try {
      const response = await client.get(path, { timeout: timeout(), headers: { 'X-aws-ec2-metadata-token': token } });
      if (response.statusCode === 404) return undefined;
      if (response.statusCode !== 200) {
        problems.push(`${path}: HTTP ${response.statusCode}`);
        if (isTransientStatus(response.statusCode)) transient ??= `${path}: HTTP ${response.statusCode}`;
        return undefined;
      }
      return response.body.trim() || undefined;
    } catch (error) {
      problems.push(`${path}: ${describeFailure(error)}`);
      return undefined;
    }
  };
  const keys = Object.keys(PATHS) as Array<keyof ImdsFacts>;
  const values = await Promise.all(keys.map((key) => read(PATHS[key])));
  const facts = Object.fromEntries(keys.map((key, i) => [key, values[i]])) as unknown as ImdsFacts;
  return { status: 'found', endpoint, problems, ...facts, ...(transient ? { transient } : {}) };
}

function errnoOf(error: unknown): string | undefined {
  return error && typeof error === 'object' && 'code' in error ? String(error.code) : undefined;
}

function describeFailure(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error) {
    const code = String(error.code);
    return code === 'ETIMEDOUT' ? 'no answer in time' : code;
  }
  return error instanceof Error ? error.message : String(error);
}
