// AWS SSM Parameter Store as a settings source. Parameters directly under a path are fleet
// settings (`/pacha/prod/pacha.host`); those under `<path>/hosts/<host>/` override them for
// one host. A parameter's last name segment is the key. SecureStrings (the private key) are
// decrypted; their values never reach a message.
//
// The SDK is imported only when a path is configured (cold start), and told not to retry:
// the retry decision for throttling is ours (backoffDelay), with one shape for every call.
import type { GetParametersByPathCommandInput, GetParametersByPathCommandOutput, Parameter } from '@aws-sdk/client-ssm';
import { backoffDelay, sleep as realSleep, type BackoffOptions } from '../backoff.js';
import type { Layer } from '../config/settings.js';
import { ConfigError, SourceUnreachableError, errnoCode, type CodeWithExit, type PachaError } from '../errors.js';

export type SendFn = (input: GetParametersByPathCommandInput) => Promise<GetParametersByPathCommandOutput>;

export interface RetryOptions {
  /** Tries of one page, the first included. */
  maxAttempts: number;
  backoff: BackoffOptions;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 6,
  backoff: { baseMs: 200, maxMs: 5000 },
  sleep: (ms) => realSleep(ms),
  random: Math.random,
};

/** SSM's own page size limit for GetParametersByPath. */
const PAGE_SIZE = 10;
const SSM_PATH = /^(\/[A-Za-z0-9_.-]+)+$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

export function ssmOrigin(name: string): string {
  return `ssm:${name}`;
}

/**
 * A path as SSM takes it: absolute, segments of letters, digits, `_ . -`, no trailing slash.
 * `from` names where the path came from. Pure.
 */
export function checkSsmPath(path: string, from: string): string {
  const trimmed = path.trim().replace(/(.)\/+$/, '$1');
  if (trimmed === '' || trimmed === '/') {
    throw new ConfigError(`the SSM path from ${from} is empty`, {
      code: 'ESSMPATH',
      hint: 'give a path such as /pacha/prod, or remove the setting',
    });
  }
  if (!SSM_PATH.test(trimmed)) {
    throw new ConfigError(`the SSM path '${trimmed}' from ${from} is not valid`, {
      code: 'ESSMPATH',
      hint: "an SSM path starts with '/' and has segments of letters, digits, '_', '.' and '-'",
    });
  }
  return trimmed;
}

export interface RegionChoice {
  region: string;
  from: string;
}

/** pacha.ssm.region, then AWS_REGION / AWS_DEFAULT_REGION, then the instance's region. Pure. */
export function chooseSsmRegion(
  setting: string | undefined,
  env: NodeJS.ProcessEnv,
  instanceRegion: RegionChoice | undefined,
): RegionChoice | undefined {
  if (setting?.trim()) return { region: setting.trim(), from: 'pacha.ssm.region' };
  if (env.AWS_REGION?.trim()) return { region: env.AWS_REGION.trim(), from: 'AWS_REGION' };
  if (env.AWS_DEFAULT_REGION?.trim()) return { region: env.AWS_DEFAULT_REGION.trim(), from: 'AWS_DEFAULT_REGION' };
  return instanceRegion;
}

/** The path's host override folder: `<path>/hosts/<host>`. */
export function hostPath(path: string, host: string): string {
  return `${path}/hosts/${host}`;
}

/** Parameters as a settings layer: last name segment = key, origin `ssm:<full name>`. Pure. */
export function parametersLayer(parameters: Parameter[], source: string): Layer {
  const entries = parameters
    .filter((p) => p.Name !== undefined && p.Value !== undefined)
    .sort((a, b) => a.Name!.localeCompare(b.Name!))
    .map((p) => ({
      key: p.Name!.slice(p.Name!.lastIndexOf('/') + 1),
      raw: p.Value!,
      origin: ssmOrigin(p.Name!),
      ...(p.Type === 'SecureString' ? { secret: true } : {}),
    }));
  return { source, entries };
}

/**
 * Every parameter directly under `path` (not recursive), decrypted, page after page until
 * no NextToken; a throttled page is retried with backoff. `send` is the SDK call (or a test's
 * wrapper of it).
 */
export async function getParametersByPath(send: SendFn, path: string, retry: RetryOptions = DEFAULT_RETRY): Promise<Parameter[]> {
  const parameters: Parameter[] = [];
  let nextToken: string | undefined;
  do {
    const input: GetParametersByPathCommandInput = {
      Path: path,
      Recursive: false,
      WithDecryption: true,
      MaxResults: PAGE_SIZE,
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
    const page = await withThrottlingRetry(() => send(input), retry);
    parameters.push(...(page.Parameters ?? []));
    nextToken = page.NextToken || undefined;
  } while (nextToken);
  return parameters;
}

export function isThrottling(error: unknown): boolean {
  const name = error && typeof error === 'object' && 'name' in error ? String(error.name) : '';
  return name === 'ThrottlingException' || name === 'TooManyRequestsException';
}

async function withThrottlingRetry<T>(call: () => Promise<T>, retry: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isThrottling(error) || attempt >= retry.maxAttempts) throw error;
      await retry.sleep(backoffDelay(attempt, retry.backoff, retry.random()));
    }
  }
}

export interface SsmClientOptions {
  region: RegionChoice;
  /** Explicit endpoint; otherwise the SDK's own AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL. */
  endpoint?: string;
}

export interface SsmSource {
  region: string;
  /** Fleet parameters: directly under `path`. */
  fleet(path: string, retry?: RetryOptions): Promise<Layer>;
  /** Host parameters: directly under `<path>/hosts/<host>`. */
  host(path: string, host: string, retry?: RetryOptions): Promise<Layer>;
  /** The SDK call, for callers that decide retries themselves (tests wrap it). */
  send: SendFn;
  close(): void;
}

/** An SSM client for `region`; errors name the path and say what to do. */
export async function openSsm(options: SsmClientOptions): Promise<SsmSource> {
  const { region, from } = options.region;
  // An explicit endpoint (AWS_ENDPOINT_URL_SSM …) may serve any region name; AWS's may not.
  const customEndpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_SSM ?? process.env.AWS_ENDPOINT_URL;
  if (!customEndpoint && !REGION.test(region)) {
    throw new ConfigError(`unknown AWS region '${region}' (from ${from}) for SSM`, {
      code: 'ESSMREGION',
      hint: 'set pacha.ssm.region or AWS_REGION to a region such as eu-west-1',
    });
  }
  const { SSMClient, GetParametersByPathCommand } = await import('@aws-sdk/client-ssm');
  const client = new SSMClient({
    region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 3000, requestTimeout: 10000, throwOnRequestTimeout: true },
  });
  const send: SendFn = (input) => client.send(new GetParametersByPathCommand(input));
  const read = async (path: string, source: string, retry?: RetryOptions): Promise<Layer> => {
    try {
      return parametersLayer(await getParametersByPath(send, path, retry), source);
    } catch (error) {
      throw ssmError(error, path, region);
    }
  };
  return {
    region,
    send,
    fleet: (path, retry) => read(path, `SSM parameters under ${path}`, retry),
    host: (path, host, retry) => read(hostPath(path, host), `SSM parameters under ${hostPath(path, host)}`, retry),
    close: () => client.destroy(),
  };
}

const TRANSIENT_ERRNO = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED'];

/** HTTP status of an SDK error, if it got that far. */
function httpStatus(error: unknown): number | undefined {
  const meta = error && typeof error === 'object' && '$metadata' in error ? (error as { $metadata?: { httpStatusCode?: number } }).$metadata : undefined;
  return meta?.httpStatusCode;
}

/**
 * An SDK or network failure naming the path; never a parameter value. What passes by itself
 * (no route, refused, timeout, throttling, HTTP 5xx) is a SourceUnreachableError (exit 3,
 * retried by boot within pacha.boot.timeout); the rest is a ConfigError (exit 2).
 */
export function ssmError(error: unknown, path: string, region: string): PachaError {
  const name = error && typeof error === 'object' && 'name' in error ? String(error.name) : '';
  const code = errnoCode(error);
  const where = `SSM path ${path} (region ${region})`;
  const make = (errorCode: CodeWithExit<2>, message: string, hint: string): ConfigError =>
    new ConfigError(message, { code: errorCode, hint, cause: error, details: { path, region } });
  const transient = (errorCode: CodeWithExit<3>, message: string, hint: string): SourceUnreachableError =>
    new SourceUnreachableError(message, { code: errorCode, hint, cause: error, details: { path, region } });
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return make(
      'ESSMDENIED',
      `access denied reading ${where}`,
      `allow ssm:GetParametersByPath on ${path}/* (and kms:Decrypt for SecureStrings) to this instance's role`,
    );
  }
  if (name === 'ParameterNotFound' || name === 'ParameterNotFoundException') {
    return make('ESSMNOTFOUND', `no parameters at ${where}`, 'check the path, or create the parameters');
  }
  if (name === 'ValidationException') return make('ESSMPATH', `SSM refused ${where} as invalid`, 'check the path');
  if (isThrottling(error)) return transient('ESSMTHROTTLED', `SSM kept throttling reads of ${where}`, 'try again later');
  if (['UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredTokenException', 'CredentialsProviderError', 'InvalidSignatureException'].includes(name)) {
    return make('ESSMCREDENTIALS', `no valid AWS credentials to read ${where}`, 'give the instance a role, or set AWS credentials in the environment');
  }
  if (code === 'ENOTFOUND') {
    return make('ESSMREGION', `cannot resolve the SSM endpoint for ${where}: unknown region or no DNS`, 'check pacha.ssm.region / AWS_REGION');
  }
  if ((code && TRANSIENT_ERRNO.includes(code)) || name === 'TimeoutError' || name === 'RequestTimeout') {
    return transient('ESSMUNREACHABLE', `the SSM endpoint for ${where} is unreachable (${code ?? name})`, 'check the network, AWS_ENDPOINT_URL_SSM and the region');
  }
  const status = httpStatus(error);
  if ((status !== undefined && status >= 500) || ['InternalServerError', 'InternalServerException', 'ServiceUnavailable', 'ServiceUnavailableException'].includes(name)) {
    return transient('ESSMUNAVAILABLE', `SSM failed reading ${where} (${name || `HTTP ${status}`})`, 'an AWS-side failure; it usually passes');
  }
  return make('ESSM', `reading ${where} failed: ${name || code || 'unknown error'}`, 'check the path, the region and the instance role');
}
