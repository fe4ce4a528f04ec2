// What an S3 failure means for pacha, from the SDK's error name and HTTP status. Pure apart
// from building the PachaError: permanent failures (no bucket, no credentials, access
// denied, a wrong region) exit 2 and say what to fix; passing ones (throttling, 5xx, no
// route) are retried by s3RetryLoop and exit 3 when the time runs out.
import { ConfigError, MasterError, MasterUnreachableError, PachaError } from '../../errors.js';

export type S3FailureKind = 'no-bucket' | 'credentials' | 'denied' | 'region' | 'transient' | 'precondition' | 'missing' | 'conflict' | 'other';

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

const TRANSIENT_NAMES = new Set(['SlowDown', 'ServiceUnavailable', 'InternalError', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded']);
const TRANSIENT_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

export function s3FailureKind(error: unknown): S3FailureKind {
  const e = (error ?? {}) as SdkErrorShape;
  const name = e.name ?? e.Code ?? '';
  const status = e.$metadata?.httpStatusCode;
  if (name === 'NoSuchBucket') return 'no-bucket';
  if (name === 'CredentialsProviderError' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'ExpiredToken' || name === 'InvalidToken') return 'credentials';
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || name === 'IllegalLocationConstraintException' || status === 301) return 'region';
  if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) return 'denied';
  if (name === 'PreconditionFailed' || status === 412) return 'precondition';
  if (name === 'ConditionalRequestConflict' || status === 409) return 'conflict';
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) return 'missing';
  if (TRANSIENT_NAMES.has(name) || (status !== undefined && (status === 429 || status >= 500))) return 'transient';
  if (e.code && TRANSIENT_ERRNO.has(e.code)) return 'transient';
  // The SDK wraps a refused connection in an error whose cause or message carries the errno.
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|socket hang up/.test(e.message ?? '')) return 'transient';
  return 'other';
}

export interface S3Place {
  bucket: string;
  key?: string;
  region: string;
  /** What was being done: "reading", "writing" … */
  action: string;
}

function where(place: S3Place): string {
  return place.key ? `s3://${place.bucket}/${place.key}` : `s3://${place.bucket}`;
}

/** The PachaError for an SDK failure at `place`. */
export function s3Error(error: unknown, place: S3Place): PachaError {
  const kind = s3FailureKind(error);
  const e = (error ?? {}) as SdkErrorShape;
  const said = `${e.name ?? 'Error'}${e.message ? `: ${e.message}` : ''}`;
  const at = where(place);
  switch (kind) {
    case 'no-bucket':
      return new ConfigError(`S3 bucket ${place.bucket} does not exist (region ${place.region}) while ${place.action} ${at}`, {
        code: 'ES3NOBUCKET',
        hint: `create the bucket (aws s3 mb s3://${place.bucket}), or correct pacha.host`,
        cause: error,
      });
    case 'credentials':
      return new ConfigError(`no usable AWS credentials for ${at} (${said})`, {
        code: 'ES3CREDENTIALS',
        hint: 'give the instance a role (instance profile), or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE; `aws sts get-caller-identity` shows what the SDK finds',
        cause: error,
      });
    case 'region': {
      const actual = e.$response?.headers?.['x-amz-bucket-region'];
      return new ConfigError(`S3 bucket ${place.bucket} is not in region ${place.region}${actual ? ` (it is in ${actual})` : ''} (while ${place.action} ${at})`, {
        code: 'ES3REGION',
        hint: `set pacha.s3.region = ${actual ?? "the bucket's region"}`,
        cause: error,
      });
    }
    case 'denied':
      return new ConfigError(`access denied to ${at} while ${place.action} (${said})`, {
        code: 'ES3DENIED',
        hint: "this host's IAM role (or user) lacks the permission: see the README, \"An S3 bucket as the master\", for the policy; a host may write only its own prefix and never its hooks",
        cause: error,
      });
    case 'transient':
      return new MasterUnreachableError(`S3 did not answer ${at} while ${place.action} (${said})`, {
        code: 'ES3UNAVAILABLE',
        hint: 'throttled or unavailable: pacha retried with backoff until pacha.s3.timeout ran out; nothing was lost, the next try resumes',
        cause: error,
      });
    default:
      return new MasterError(`S3 failed ${place.action} ${at}: ${said}`, { code: 'ES3', hint: 'check the bucket and the key named above', cause: error });
  }
}

/**
 * A host's prefix that may not be listed: under the per-host IAM policy a role lists only its
 * own prefix, so a host that does not exist and another role's host look the same from here.
 * Says that, and what to do, instead of a bare "access denied". Other errors pass unchanged.
 */
export function hostNotReadable(label: string, host: string, listed: string, error: unknown): unknown {
  if (!(error instanceof PachaError) || error.code !== 'ES3DENIED') return error;
  return new ConfigError(`${label}: host '${host}' cannot be read with these credentials (listing ${listed} was denied): either no such host exists or it belongs to another role`, {
    code: 'ES3DENIED',
    hint: `under the per-host IAM policy (README, "An S3 bucket as the master") a host's role lists only its own prefix, so pacha cannot tell which. Check the name (pacha rebuild HOST, pacha.hostname); rebuild another host with its own role or an admin's credentials; an admin creates a new host with \`pacha add-host ${host}\` and its role's policy`,
    cause: error,
  });
}
