// One bucket as pacha uses it: small JSON objects read and replaced by compare-and-swap
// (If-Match on the ETag, If-None-Match: * to create), immutable objects streamed to and from
// local files, listings. Every call is retried with jittered backoff while S3 throttles or
// fails for a while (SlowDown, 5xx, no route), until the retry budget runs out (exit 3);
// anything else fails at once with a message naming the bucket and key (errors.ts).
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { backoffDelay, sleep, type BackoffOptions } from '../../backoff.js';
import { s3Error, s3FailureKind } from './errors.js';

/** 0.2 s, 0.4 s … capped at 10 s, each drawn in [0, delay]: a fleet throttled together spreads out. */
export const S3_BACKOFF: BackoffOptions = { baseMs: 200, maxMs: 10_000, factor: 2, jitter: 1 };

export interface BucketOptions {
  bucket: string;
  region: string;
  /** AWS_ENDPOINT_URL_S3 or pacha.s3.endpoint: path-style addressing then (moto, MinIO …). */
  endpoint?: string | undefined;
  /** How long one call may keep retrying a passing failure (ms). */
  retryMs: number;
  /** Called before each retry (logs, the boot storm bench's count). */
  onRetry?: (what: string, attempt: number, error: unknown, delayMs: number) => void;
}

export interface Listing {
  /** Names directly under the prefix that are "folders" (end in '/'), without the slash. */
  folders: string[];
  objects: Array<{ name: string; size: number }>;
}

export class Bucket {
  readonly name: string;
  readonly region: string;
  readonly client: S3Client;
  retries = 0;

  constructor(private readonly options: BucketOptions) {
    this.name = options.bucket;
    this.region = options.region;
    const config: S3ClientConfig = { region: options.region, maxAttempts: 1 };
    if (options.endpoint) Object.assign(config, { endpoint: options.endpoint, forcePathStyle: true });
    this.client = new S3Client(config);
  }

  /** From now on, a call keeps retrying a passing failure for at least `ms` (boot's budget). */
  retryAtLeast(ms: number): void {
    this.options.retryMs = Math.max(this.options.retryMs, ms);
  }

  /** `call`, retried while S3 fails in a passing way; a PachaError naming `key` otherwise. */
  private async call<T>(action: string, key: string | undefined, call: () => Promise<T>, pass: (kind: string) => boolean = () => false): Promise<T | undefined> {
    const deadline = performance.now() + this.options.retryMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const kind = s3FailureKind(error);
        if (pass(kind)) return undefined;
        const remaining = deadline - performance.now();
        if (kind !== 'transient' || remaining <= 0) throw s3Error(error, { bucket: this.name, key, region: this.region, action });
        const delay = Math.min(backoffDelay(attempt, S3_BACKOFF), remaining);
        this.retries++;
        this.options.onRetry?.(`${action} s3://${this.name}/${key ?? ''}`, attempt, error, delay);
        await sleep(delay);
      }
    }
  }

  /** A small object's text and ETag; undefined when there is none. */
  async readText(key: string): Promise<{ text: string; etag: string } | undefined> {
    return this.call('reading', key, async () => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
      return { text: await out.Body!.transformToString('utf8'), etag: out.ETag ?? '' };
    }, (kind) => kind === 'missing');
  }

  /**
   * Write a small object only if it is as expected: `etag` (If-Match) replaces that version,
   * undefined (If-None-Match: *) creates it. 'conflict' when someone else got there first.
   */
  async swapText(key: string, text: string, etag: string | undefined): Promise<'written' | 'conflict'> {
    let conflict = false;
    await this.call('writing', key, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.name,
          Key: key,
          Body: text,
          ContentType: 'application/json',
          ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag }),
        }),
      ),
      // 412: changed since read; 404: If-Match on an object deleted since; 409: a concurrent conditional write.
      (kind) => (conflict = kind === 'precondition' || kind === 'missing' || kind === 'conflict'),
    );
    return conflict ? 'conflict' : 'written';
  }

  /** Upload a local file as a new, immutable object; 'exists' when the key is taken already. */
  async createFromFile(key: string, file: string): Promise<'created' | 'exists'> {
    const { size } = await stat(file);
    let exists = false;
    await this.call('writing', key, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: createReadStream(file), ContentLength: size, IfNoneMatch: '*' })),
      (kind) => (exists = kind === 'precondition' || kind === 'conflict'),
    );
    return exists ? 'exists' : 'created';
  }

  /** Create a small object unless it exists. */
  async createText(key: string, text: string): Promise<'created' | 'exists'> {
    return (await this.swapText(key, text, undefined)) === 'written' ? 'created' : 'exists';
  }

  /** Stream an object into `file` (written beside it, renamed when complete); its user metadata, or undefined when there is none. */
  async download(key: string, file: string): Promise<Record<string, string> | undefined> {
    const partial = `${file}.partial`;
    const metadata = await this.call('reading', key, async () => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
      await pipeline(out.Body as Readable, createWriteStream(partial, { mode: 0o600 }));
      return out.Metadata ?? {};
    }, (kind) => kind === 'missing');
    if (!metadata) {
      await rm(partial, { force: true });
      return undefined;
    }
    await rename(partial, file);
    return metadata;
  }

  /** User metadata of an object (x-amz-meta-*), or undefined when there is none. */
  async head(key: string): Promise<Record<string, string> | undefined> {
    return this.call('reading', key, async () => (await this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: key }))).Metadata ?? {}, (kind) => kind === 'missing');
  }

  async delete(key: string): Promise<void> {
    await this.call('deleting', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key })), (kind) => kind === 'missing');
  }

  /** What lies directly under `prefix` (which ends in '/'), every page. */
  async list(prefix: string): Promise<Listing> {
    const listing: Listing = { folders: [], objects: [] };
    let token: string | undefined;
    do {
      const page = await this.call('listing', prefix, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, Delimiter: '/', ...(token ? { ContinuationToken: token } : {}) })),
      );
      for (const p of page?.CommonPrefixes ?? []) if (p.Prefix) listing.folders.push(p.Prefix.slice(prefix.length, -1));
      for (const o of page?.Contents ?? []) if (o.Key && o.Key !== prefix) listing.objects.push({ name: o.Key.slice(prefix.length), size: o.Size ?? 0 });
      token = page?.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return listing;
  }

  close(): void {
    this.client.destroy();
  }
}
