// `pacha.host = s3://BUCKET/PREFIX`: an S3 bucket as the master. Pure: parsing and checking
// the location, shared by the config's validation and the S3 master.

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing '/', possibly empty. */
  prefix: string;
}

// S3's bucket naming rules (general purpose buckets): 3–63 of a-z 0-9 . -, starting and
// ending with a letter or digit.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Why `value` is not a usable s3:// location, or undefined when it is. */
export function s3LocationProblem(value: string): string | undefined {
  const rest = value.slice('s3://'.length);
  const [bucket = '', ...parts] = rest.split('/');
  if (!BUCKET.test(bucket)) return `names bucket '${bucket}', which is not an S3 bucket name (3-63 of a-z, 0-9, '.', '-')`;
  const segments = parts.filter((p) => p !== '');
  const bad = segments.find((s) => s === '.' || s === '..' || /[\0\n\\]/.test(s));
  if (bad !== undefined) return `has a prefix segment '${bad}' that is not allowed`;
  return undefined;
}

/** s3://bucket/a/b/ -> { bucket, prefix: 'a/b' }. Throws on a bad location (validated before). */
export function parseS3Location(value: string): S3Location {
  const problem = s3LocationProblem(value);
  if (problem) throw new Error(`'${value}' ${problem}`);
  const [bucket = '', ...parts] = value.slice('s3://'.length).split('/');
  return { bucket, prefix: parts.filter((p) => p !== '').join('/') };
}
