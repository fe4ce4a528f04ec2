// moto_server as an S3 master (and IAM, to prove isolation): a bucket, an admin client that
// puts hooks and reads what pacha wrote, and IAM users limited to one host's prefix. With
// `iam: true` moto enforces IAM after the first requests (INITIAL_NO_AUTH_ACTION_COUNT):
// the setup (bucket, users, policies, keys) runs unauthenticated, every later request is checked.
import { after } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { hostPolicy as policyOf } from '../../src/master/s3/policy.js';
import { startMoto, type Moto } from './moto.js';

export interface MotoS3 {
  moto: Moto;
  endpoint: string;
  bucket: string;
  admin: S3Client;
  /** Environment for pacha (and git's helper) to reach this bucket with `credentials`. */
  env(credentials?: { accessKeyId: string; secretAccessKey: string }): Record<string, string>;
  keys(prefix: string): Promise<string[]>;
  text(key: string): Promise<string>;
  putHook(key: string, body: string, metadata?: Record<string, string>): Promise<void>;
}

export const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

/** Requests the setup makes: one bucket, then three per IAM user (user, policy, key). */
const setupActions = (users: number): number => 1 + 3 * users;

/**
 * With `iamUsers`, moto enforces IAM once the setup is done: exactly the setup's requests run
 * unauthenticated (the admin user, the given users with their policies, the bucket).
 */
export async function startMotoS3(options: { bucket?: string; iamUsers?: Record<string, string> } = {}): Promise<MotoS3 & { users: Record<string, { accessKeyId: string; secretAccessKey: string }> }> {
  const iam = options.iamUsers !== undefined;
  const moto = await startMoto(iam ? { env: { INITIAL_NO_AUTH_ACTION_COUNT: String(setupActions(Object.keys(options.iamUsers!).length + 1)) } } : {});
  const bucket = options.bucket ?? 'fleet';
  // Under IAM, moto knows only its own users: the admin is one, allowed everything.
  const adminKey = iam ? await iamUser(moto.endpoint, 'admin', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] })) : ADMIN;
  const users: Record<string, { accessKeyId: string; secretAccessKey: string }> = {};
  for (const [name, policy] of Object.entries(options.iamUsers ?? {})) users[name] = await iamUser(moto.endpoint, name, policy);
  const admin = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: adminKey });
  after(() => admin.destroy());
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    users,
    moto,
    endpoint: moto.endpoint,
    bucket,
    admin,
    env: (credentials = adminKey) => ({
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    // The whole bucket, filtered here: moto's IAM mode rejects a listing whose prefix holds a '/' (iam.test.ts).
    keys: async (prefix) => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const out = await admin.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
        keys.push(...(out.Contents ?? []).map((o) => o.Key!).filter((k) => k.startsWith(prefix)));
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    text: async (key) => (await (await admin.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString('utf8')),
    putHook: async (key, body, metadata) => {
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(metadata ? { Metadata: metadata } : {}) }));
    },
  };
}

/** The per-host policy pacha add-host prints (src/master/s3/policy.ts), as IAM takes it. */
export function hostPolicy(bucket: string, prefix: string, host: string): string {
  return JSON.stringify(policyOf(bucket, prefix, host));
}

/** An IAM user with `policy` inline, and its access key (moto's IAM, while setup is unauthenticated). */
export async function iamUser(endpoint: string, name: string, policy: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const { IAMClient, CreateUserCommand, PutUserPolicyCommand, CreateAccessKeyCommand } = await import('@aws-sdk/client-iam');
  const iam = new IAMClient({ region: 'us-east-1', endpoint, credentials: ADMIN });
  try {
    await iam.send(new CreateUserCommand({ UserName: name }));
    await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: `${name}-pacha`, PolicyDocument: policy }));
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
    return { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };
  } finally {
    iam.destroy();
  }
}
