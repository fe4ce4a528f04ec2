// Running git for one local repository (a git dir whose work tree is the tracked path).
// simple-git with an explicit, minimal environment: nothing of the caller's environment
// (AWS keys, PACHA_SSH_PRIVATE_KEY …) reaches git or the ssh it starts.
import { simpleGit, type SimpleGit } from 'simple-git';

export const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'pacha',
  GIT_COMMITTER_NAME: 'pacha',
} as const;

const ALLOWED_ENVIRONMENT = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_SSH_COMMAND',
  'GIT_AUTHOR_NAME',
  'GIT_AUTHOR_EMAIL',
  'GIT_COMMITTER_NAME',
  'GIT_COMMITTER_EMAIL',
  'GIT_TERMINAL_PROMPT',
  'GIT_CONFIG_NOSYSTEM',
  'GIT_OPTIONAL_LOCKS',
];

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

/** A simple-git instance bound to one git dir (and work tree). */
export function gitAt(context: GitContext): SimpleGit {
  const env: Record<string, string> = { ...baseEnvironment(), GIT_DIR: context.gitDir, ...context.env };
  if (context.workTree) env.GIT_WORK_TREE = context.workTree;
  return simpleGit({
    // The work tree comes from GIT_WORK_TREE; the base dir must merely exist (a tracked path may be gone).
    baseDir: '/',
    allowEnvironment: ALLOWED_ENVIRONMENT,
    unsafe: { allowUnsafeSshCommand: true },
    maxConcurrentProcesses: 4,
  }).env(env);
}

/** `git rev-parse --verify` that answers undefined instead of failing. */
export async function revParse(git: SimpleGit, rev: string): Promise<string | undefined> {
  try {
    const out = (await git.raw(['rev-parse', '-q', '--verify', `${rev}^{commit}`])).trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}
