// Running git for one local repository (a git dir whose work tree is the tracked path),
// with an explicit, minimal environment: nothing of the caller's environment (AWS keys,
// PACHA_SSH_PRIVATE_KEY, GIT_* …) reaches git or the ssh it starts.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { minimalEnv } from '../child-env.js';
import { NEUTRAL_ATTRIBUTES } from '../git-attributes.js';

export const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'pacha',
  GIT_COMMITTER_NAME: 'pacha',
} as const;


export interface GitContext {
  gitDir: string;
  workTree?: string;
  /** Extra variables: GIT_SSH_COMMAND for a master, the committer's e-mail … */
  env?: Record<string, string>;
}

export function baseEnvironment(): Record<string, string> {
  return {
    ...minimalEnv(),
    LANG: 'C',
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    // Content is stored and checked out byte for byte: no system-wide attributes or config
    // (an eol, ident or filter setting there would change files); the repository's own
    // settings and info/attributes (neutralizeRepository) say the rest.
    GIT_ATTR_NOSYSTEM: '1',
    GIT_CONFIG_NOSYSTEM: '1',
  };
}

/** git bound to one git dir (and work tree), with an explicit environment. */
export interface Git {
  /** The work tree git runs against, when it has one. */
  readonly workTree?: string;
  /** Run `git ARGS`; resolves with stdout, rejects with a GitError carrying stderr. */
  raw(args: readonly string[]): Promise<string>;
  /** `git cat-file ARGS` as bytes (blobs are not text). */
  binaryCatFile(args: readonly string[]): Promise<Buffer>;
  /** Run `git ARGS` with `input` on its standard input; resolves with stdout as bytes (-z lists of names). */
  bytes(args: readonly string[], input?: Buffer): Promise<Buffer>;
}

export class GitError extends Error {
  override name = 'GitError';
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(stderr.trim() || `git ${args[0]} exited ${exitCode}`);
  }
}

// Whole trees' listings and blobs pass through here.
const MAX_OUTPUT = 512 * 1024 * 1024;

function run(args: readonly string[], env: Record<string, string>, encoding: 'utf8' | 'buffer', input?: Buffer): Promise<string | Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', [...args], { env, cwd: '/', encoding, maxBuffer: MAX_OUTPUT }, (error, stdout, stderr) => {
      if (error) {
        const code = typeof error.code === 'number' ? error.code : null;
        reject(new GitError(args, code, String(stderr) || error.message));
      } else {
        resolve(stdout);
      }
    });
    // git may exit before reading all of it (a usage error): the callback reports that.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

/**
 * A git runner bound to one git dir. (simple-git, tried first, waits 50 ms after every git
 * command that prints nothing — `config`, `update-ref`, `update-index` … — which cost a
 * rebuild of 5 repositories ~3 s and every daemon commit ~150 ms; see bench/rebuild.bench.ts.)
 */
export function gitAt(context: GitContext): Git {
  const env: Record<string, string> = { ...baseEnvironment(), GIT_DIR: context.gitDir, ...context.env };
  if (context.workTree) env.GIT_WORK_TREE = context.workTree;
  return {
    ...(context.workTree ? { workTree: context.workTree } : {}),
    raw: async (args) => (await run(args, env, 'utf8')) as string,
    binaryCatFile: async (args) => (await run(['cat-file', ...args], env, 'buffer')) as Buffer,
    bytes: async (args, input) => (await run(args, env, 'buffer', input)) as Buffer,
  };
}

/**
 * Repository settings every git dir pacha writes or checks out from carries: content byte
 * for byte (no conversions, names git would refuse on Windows or macOS accepted), and git's
 * memory bounded for big files: a blob above 16 MB is streamed into a pack and stored
 * whole (never delta-compressed in memory), and packs are read through 16 MB windows
 * (bench/bigfile.bench.ts: a push after a 4-byte edit to a 500 MB file).
 */
export const REPOSITORY_SETTINGS: ReadonlyArray<[string, string]> = [
  ['core.autocrlf', 'false'],
  ['core.safecrlf', 'false'],
  ['core.quotePath', 'false'],
  ['core.protectNTFS', 'false'],
  ['core.protectHFS', 'false'],
  ['core.attributesFile', '/dev/null'],
  ['core.bigFileThreshold', '16m'],
  // Packs are read through mmap windows of 1 GiB by default: a 500 MB blob counted whole.
  ['core.packedGitWindowSize', '16m'],
  ['core.packedGitLimit', '64m'],
  ['pack.windowMemory', '64m'],
  ['pack.deltaCacheSize', '32m'],
  ['pack.threads', '1'],
];

/** Give a git dir the settings and info/attributes above (idempotent). */
export async function neutralizeRepository(gitDir: string): Promise<void> {
  const git = gitAt({ gitDir });
  for (const [key, value] of REPOSITORY_SETTINGS) await git.raw(['config', key, value]);
  await mkdir(path.join(gitDir, 'info'), { recursive: true, mode: 0o755 });
  await writeFile(path.join(gitDir, 'info', 'attributes'), NEUTRAL_ATTRIBUTES, { mode: 0o644 });
}

/** `git rev-parse --verify` that answers undefined instead of failing. */
export async function revParse(git: Git, rev: string): Promise<string | undefined> {
  try {
    const out = (await git.raw(['rev-parse', '-q', '--verify', `${rev}^{commit}`])).trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}
