// Running git for one local repository (a git dir whose work tree is the tracked path),
// with an explicit, minimal environment: nothing of the caller's environment (AWS keys,
// PACHA_SSH_PRIVATE_KEY, GIT_* …) reaches git or the ssh it starts.
import { execFile } from 'node:child_process';

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
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C',
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
  };
}

/** git bound to one git dir (and work tree), with an explicit environment. */
export interface Git {
  /** Run `git ARGS`; resolves with stdout, rejects with a GitError carrying stderr. */
  raw(args: readonly string[]): Promise<string>;
  /** `git cat-file ARGS` as bytes (blobs are not text). */
  binaryCatFile(args: readonly string[]): Promise<Buffer>;
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

function run(args: readonly string[], env: Record<string, string>, encoding: 'utf8' | 'buffer'): Promise<string | Buffer> {
  return new Promise((resolve, reject) => {
    execFile('git', [...args], { env, cwd: '/', encoding, maxBuffer: MAX_OUTPUT }, (error, stdout, stderr) => {
      if (error) {
        const code = typeof error.code === 'number' ? error.code : null;
        reject(new GitError(args, code, String(stderr) || error.message));
      } else {
        resolve(stdout);
      }
    });
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
    raw: async (args) => (await run(args, env, 'utf8')) as string,
    binaryCatFile: async (args) => (await run(['cat-file', ...args], env, 'buffer')) as Buffer,
  };
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
