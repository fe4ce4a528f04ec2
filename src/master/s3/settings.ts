// What the S3 master and its git remote helper need to know, and the environment that
// carries it from pacha to the helper (git passes its environment on). Pure.
export const DEFAULT_S3_TIMEOUT_SECONDS = 60;
export const DEFAULT_COMPACT_AFTER = 64;

export interface S3Settings {
  region: string;
  endpoint: string | undefined;
  /** How long a call keeps retrying while S3 throttles or is unavailable. */
  timeoutSeconds: number;
  compactAfter: number;
  /** Written into pointers: who swapped them. */
  instance: string;
}

/** The variables S3Master.gitEnv() sets for the helper. */
export function helperEnvironment(settings: S3Settings): Record<string, string> {
  return {
    PACHA_S3_REGION: settings.region,
    PACHA_S3_TIMEOUT: String(settings.timeoutSeconds),
    PACHA_S3_COMPACT_AFTER: String(settings.compactAfter),
    PACHA_S3_WRITER: settings.instance,
    ...(settings.endpoint ? { AWS_ENDPOINT_URL_S3: settings.endpoint } : {}),
  };
}

const positive = (raw: string | undefined, fallback: number): number => {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
};

/** The helper's side: its settings read back from the environment git handed it. */
export function helperSettings(env: NodeJS.ProcessEnv): S3Settings {
  return {
    region: env.PACHA_S3_REGION || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined,
    timeoutSeconds: positive(env.PACHA_S3_TIMEOUT, DEFAULT_S3_TIMEOUT_SECONDS),
    compactAfter: positive(env.PACHA_S3_COMPACT_AFTER, DEFAULT_COMPACT_AFTER),
    instance: env.PACHA_S3_WRITER ?? '',
  };
}

/** AWS variables the SDK's default credential chain and config read: passed on to git's helper. */
export const AWS_PASSTHROUGH = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_EC2_METADATA_SERVICE_ENDPOINT',
  'AWS_CA_BUNDLE',
] as const;
