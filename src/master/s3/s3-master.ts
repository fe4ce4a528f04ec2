// An S3 bucket as the master (pacha.host = s3://BUCKET/PREFIX). git talks to it through
// pacha's own remote helper (remote-helper.ts), found on the PATH gitEnv() gives git, at
// the URL pacha-s3::s3://BUCKET/PREFIX/<host>/<name>; the rest of the Master interface is
// answered here with listings and small objects. Isolation is IAM's (README).
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Location } from '../../config/s3-url.js';
import { byteOrder } from '../../fs/byte-order.js';
import { HOOK_DIRS, isHookDirName, repositoryNameProblem, unsafeComponentReason, type HookPhase } from '../layout.js';
import type { HookFile, HostListing, Master } from '../master.js';
import type { RetryDropsOptions } from '../transient.js';
import { minimalEnv } from '../../child-env.js';
import { ownEntry } from '../../own-entry.js';
import { Bucket } from './bucket.js';
import { copyRefsFromBucket } from './copy-refs.js';
import { readS3Fleet } from './fleet-read.js';
import type { FleetSnapshot } from '../../fleet/snapshot.js';
import { hostNotReadable } from './errors.js';
import { hookMode } from './hooks.js';
import { hostPolicy } from './policy.js';
import { HOST_MARKER, hostPrefix, POINTER, repositoryPrefix } from './pointer.js';
import { readPointerAt } from './repository.js';
import { AWS_PASSTHROUGH, helperEnvironment, type S3Settings } from './settings.js';

export const HELPER_NAME = 'git-remote-pacha-s3';
/** The first argument that makes pacha's CLI entry act as the remote helper (cli/main.ts). */
export const HELPER_ARGUMENT = '--git-remote-pacha-s3';

export interface S3MasterOptions extends S3Settings {
  location: S3Location;
  stateDir: string;
  onRetry?: (what: string, attempt: number, error: unknown, delayMs: number) => void;
}

/**
 * The script git runs as the helper: pacha's own CLI entry with HELPER_ARGUMENT, under the
 * node running pacha now. Run from the CLI, the entry it was started from (own-entry.ts: the
 * installed bin, dist/cli/main.js, a bundle); else (pacha's modules in a test or a bench) the
 * tsc build's dist/cli/main.js, found from this module's location in dist/ or src/.
 */
export function pachaEntry(moduleUrl: string = /* own location */ import.meta.url, recorded: string | undefined = ownEntry()): string {
  if (recorded) return recorded;
  const file = fileURLToPath(moduleUrl);
  if (!file.endsWith(path.join('master', 's3', 's3-master.js')) && !file.endsWith(path.join('master', 's3', 's3-master.ts'))) return file;
  const root = path.resolve(path.dirname(file), '..', '..', '..');
  return file.endsWith('.ts') ? path.join(root, 'dist', 'cli', 'main.js') : path.join(path.dirname(file), '..', '..', 'cli', 'main.js');
}

export class S3Master implements Master {
  readonly label: string;
  readonly hostsPath: string;
  private readonly bucket: Bucket;
  private helperDir: Promise<string> | undefined;

  constructor(private readonly options: S3MasterOptions) {
    const { bucket, prefix } = options.location;
    this.label = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.hostsPath = this.label;
    this.bucket = new Bucket({
      bucket,
      region: options.region,
      endpoint: options.endpoint,
      retryMs: options.timeoutSeconds * 1000,
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    });
  }

  /** How many calls were retried (throttling, 5xx): the boot storm bench reports it. */
  get retries(): number {
    return this.bucket.retries;
  }

  /**
   * Boot's budget (drop-retry.ts) for S3: a throttled or unreachable bucket (SlowDown, 503, a
   * connection timing out under a boot storm) is retried for the whole of pacha.boot.timeout
   * rather than pacha.s3.timeout, here and in the helper git runs (its environment).
   */
  retryDroppedConnections(options: RetryDropsOptions): void {
    const seconds = Math.ceil(options.budgetMs / 1000);
    if (seconds <= this.options.timeoutSeconds) return;
    this.options.timeoutSeconds = seconds;
    this.bucket.retryAtLeast(seconds * 1000);
  }

  private get prefix(): string {
    return this.options.location.prefix;
  }

  async listHosts(): Promise<string[]> {
    const listing = await this.bucket.list(this.prefix ? `${this.prefix}/` : '');
    return listing.folders.filter((name) => !name.startsWith('.') && !unsafeComponentReason(name)).sort(byteOrder);
  }

  async describeHost(host: string): Promise<HostListing | undefined> {
    const dir = hostPrefix(this.prefix, host);
    const listing = await this.bucket.list(dir).catch((error: unknown) => {
      throw hostNotReadable(this.label, host, `s3://${this.options.location.bucket}/${dir}`, error);
    });
    if (listing.folders.length === 0 && listing.objects.length === 0) return undefined;
    const names = listing.folders.filter((name) => !isHookDirName(name) && !repositoryNameProblem(name));
    const withPointer = await Promise.all(names.map(async (name) => ((await this.bucket.head(`${dir}${name}/${POINTER}`)) ? name : undefined)));
    return {
      host,
      repositories: withPointer.filter((n): n is string => n !== undefined).sort(byteOrder),
      hasPreHooks: listing.folders.includes(HOOK_DIRS.pre),
      hasPostHooks: listing.folders.includes(HOOK_DIRS.post),
    };
  }

  /** `pacha fleet`: every host's pointers (fleet-read.ts). */
  async readFleet(sinceSeconds: number): Promise<FleetSnapshot> {
    return readS3Fleet(this.bucket, this.prefix, await this.listHosts(), sinceSeconds);
  }

  async addHost(host: string): Promise<'created' | 'exists'> {
    return this.bucket.createText(`${hostPrefix(this.prefix, host)}${HOST_MARKER}`, `${JSON.stringify({ host, created: new Date().toISOString() })}\n`);
  }

  /** A host's access is its role's IAM policy (policy.ts); pacha cannot create roles (the admin's IaC does). */
  hostAccess(host: string): { how: string; policy: Record<string, unknown>; settings: string[] } {
    return {
      how: `attach this policy to host ${host}'s IAM role (its instance profile): it may list, read and write only ${this.label}/${host}/, and never write its hooks`,
      policy: hostPolicy(this.options.location.bucket, this.prefix, host),
      settings: [`pacha.host = ${this.label}`, `pacha.hostname = ${host}`, ...(this.options.region ? [`pacha.s3.region = ${this.options.region}`] : [])],
    };
  }

  /** Nothing to create ahead: the first push writes the pointer (If-None-Match: *). */
  async ensureRepository(host: string, name: string): Promise<'created' | 'exists'> {
    return (await this.bucket.head(`${repositoryPrefix(this.prefix, host, name)}${POINTER}`)) ? 'exists' : 'created';
  }

  async fetchHooks(host: string, phase: HookPhase, localDir: string): Promise<HookFile[]> {
    const dir = `${hostPrefix(this.prefix, host)}${HOOK_DIRS[phase]}/`;
    const listing = await this.bucket.list(dir);
    if (listing.folders.length === 0 && listing.objects.length === 0) return [];
    await mkdir(localDir, { recursive: true, mode: 0o700 });
    const hooks: HookFile[] = listing.folders.map((name) => ({ name, mode: 0o755, type: 'directory' as const }));
    for (const object of listing.objects) {
      const hook: HookFile = { name: object.name, mode: 0o755, type: 'file' };
      // Only names the hook rules could run are downloaded (no '/', no NUL, not hidden).
      if (!object.name.startsWith('.') && !/[\0]/.test(object.name)) {
        const local = path.join(localDir, object.name);
        const metadata = await this.bucket.download(`${dir}${object.name}`, local);
        if (!metadata) continue; // deleted since the listing
        hook.mode = hookMode(metadata);
        hook.localPath = local;
        await chmod(local, hook.mode);
      }
      hooks.push(hook);
    }
    return hooks.sort((a, b) => byteOrder(a.name, b.name));
  }

  repositoryUrl(host: string, name: string): string {
    return `pacha-s3::s3://${this.options.location.bucket}/${repositoryPrefix(this.prefix, host, name).replace(/\/$/, '')}`;
  }

  /** Master.copyRefs: the bundles applied by this process, no remote helper started (copy-refs.ts). */
  async copyRefs(host: string, name: string, gitDir: string, pick: (ref: string) => string | undefined): Promise<Record<string, string>> {
    const { instance, compactAfter } = this.options;
    return copyRefsFromBucket({ bucket: this.bucket, prefix: repositoryPrefix(this.prefix, host, name), gitDir, pick, instance, compactAfter });
  }

  /** Master.readRefStamps: the pointer's refs and stamps (written with each push: pointer.ts). */
  async readRefStamps(host: string, name: string): Promise<Record<string, { sha: string; stamp?: { time: number; trailers: string[] } }>> {
    const read = await readPointerAt(this.bucket, `${repositoryPrefix(this.prefix, host, name)}${POINTER}`);
    if (!read) return {};
    const { pointer } = read;
    return Object.fromEntries(Object.entries(pointer.refs).map(([ref, sha]) => [ref, { sha, ...(pointer.stamps?.[ref] ? { stamp: pointer.stamps[ref] } : {}) }]));
  }

  /** A directory holding only git-remote-pacha-s3, which git finds on PATH. */
  private ensureHelper(): Promise<string> {
    this.helperDir ??= (async () => {
      const dir = path.join(this.options.stateDir, 's3', 'bin');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // NODE_NO_WARNINGS: the SDK's Node-version notice would land in git's output at every push.
      const script = `#!/bin/sh\nNODE_NO_WARNINGS=1 exec '${process.execPath.replace(/'/g, `'\\''`)}' '${pachaEntry().replace(/'/g, `'\\''`)}' ${HELPER_ARGUMENT} "$@"\n`;
      await writeFile(path.join(dir, HELPER_NAME), script, { mode: 0o700 });
      await chmod(path.join(dir, HELPER_NAME), 0o700);
      return dir;
    })();
    return this.helperDir;
  }

  /** Made ready by open(); gitEnv() is synchronous. */
  async prepare(): Promise<void> {
    await this.ensureHelper();
  }

  gitEnv(): Record<string, string> {
    const base = minimalEnv();
    const passed = Object.fromEntries(AWS_PASSTHROUGH.filter((name) => process.env[name]).map((name) => [name, process.env[name]!]));
    return {
      ...base,
      PATH: `${path.join(this.options.stateDir, 's3', 'bin')}:${base.PATH}`,
      ...passed,
      ...helperEnvironment(this.options),
    };
  }

  async pushOptions(): Promise<string[]> {
    return [];
  }

  async close(): Promise<void> {
    this.bucket.close();
  }
}
