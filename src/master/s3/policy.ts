// The per-host IAM policy of an S3 master (README, "IAM: each host its own prefix"): a host's
// role may list, read and write only PREFIX/<host>/, and read but never write its hooks.
// `pacha add-host` prints it for the admin to attach; the IAM tests attach this very one. Pure.
import { HOOK_DIRS } from '../layout.js';

export function hostPolicy(bucket: string, prefix: string, host: string): Record<string, unknown> {
  const base = `${prefix ? `${prefix}/` : ''}${host}`;
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'List', Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { 's3:prefix': [`${base}/*`] } } },
      { Sid: 'Read', Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/${base}/*` },
      { Sid: 'Write', Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: `arn:aws:s3:::${bucket}/${base}/*` },
      {
        Sid: 'NoHooks',
        Effect: 'Deny',
        Action: ['s3:PutObject', 's3:DeleteObject'],
        Resource: [`arn:aws:s3:::${bucket}/${base}/${HOOK_DIRS.pre}/*`, `arn:aws:s3:::${bucket}/${base}/${HOOK_DIRS.post}/*`],
      },
    ],
  };
}
