// Running git for one local repository (a git dir whose work tree is the tracked path),
// with an explicit, minimal environment: nothing of the caller's environment (AWS keys,
// PACHA_SSH_PRIVATE_KEY, GIT_* …) reaches git or the ssh it starts.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { minimalEnv } from '../child-env.js';
import { NEUTRAL_ATTRIBUTES } from '../git-attributes.js';
import { childProcess } from '../lazy-builtins.js';

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
    const child = childProcess().execFile('git', [...args], { env, cwd: '/', encoding, maxBuffer: MAX_OUTPUT }, (error, stdout, stderr) => {
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
export async function neutralizeRepository(gitDir: string, settings: ReadonlyArray<readonly [string, string]> = []): Promise<void> {
  await setConfigValues(gitDir, [...settings, ...REPOSITORY_SETTINGS]);
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

/**
 * A git config file's text with `settings` (`section.key` without subsection, value) set:
 * earlier lines of those keys in their sections are dropped and the values appended in a
 * block of their own, as `git config KEY VALUE` would leave them (one value each). Pure.
 * Undefined when a value cannot be written plainly (a newline) or the text has a
 * continuation line in a section concerned: the caller asks git instead.
 */
export function withConfigValues(text: string, settings: ReadonlyArray<readonly [string, string]>): string | undefined {
  const wanted = new Map<string, Map<string, string>>();
  for (const [name, value] of settings) {
    const dot = name.indexOf('.');
    if (dot <= 0 || name.indexOf('.', dot + 1) !== -1 || /[\n\0]/.test(value)) return undefined;
    const section = name.slice(0, dot).toLowerCase();
    if (!wanted.has(section)) wanted.set(section, new Map());
    wanted.get(section)!.set(name.slice(dot + 1).toLowerCase(), value);
  }
  const kept: string[] = [];
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\s*\[([^\]]*)\](.*)$/.exec(line);
    if (header) {
      section = header[1]!.trim().toLowerCase();
      // A value on the header's line ([core] bare = true) is valid git and rare: let git do it.
      if (header[2]!.trim() && !header[2]!.trim().startsWith('#') && !header[2]!.trim().startsWith(';') && wanted.has(section)) return undefined;
      kept.push(line);
      continue;
    }
    const keys = wanted.get(section);
    if (keys) {
      if (/\\\s*$/.test(line)) return undefined;
      const key = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*(=|$|[#;])/.exec(line)?.[1]?.toLowerCase();
      if (key !== undefined && keys.has(key)) continue;
    }
    kept.push(line);
  }
  // A section header of ours left with nothing under it (a previous call's block) goes.
  const isHeader = (line: string | undefined): boolean => line !== undefined && /^\s*\[/.test(line);
  const compact = kept.filter((line, i) => {
    if (!isHeader(line) || !wanted.has(line.trim().slice(1, -1).trim().toLowerCase())) return true;
    let next = i + 1;
    while (next < kept.length && kept[next]!.trim() === '') next++;
    return next < kept.length && !isHeader(kept[next]);
  });
  kept.length = 0;
  kept.push(...compact);
  while (kept.length && kept.at(-1) === '') kept.pop();
  const quote = (v: string): string => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  for (const [name, keys] of wanted) {
    kept.push(`[${name}]`);
    for (const [key, value] of keys) kept.push(`\t${key} = ${quote(value)}`);
  }
  return `${kept.join('\n')}\n`;
}

/**
 * Set several config values of a git dir at once: the file is rewritten beside itself and
 * renamed over (a reader sees the old or the new one), no git process per value (a
 * rebuild set 18 per repository, 5 s of a 5-repository rebuild on a loaded machine).
 */
export async function setConfigValues(gitDir: string, settings: ReadonlyArray<readonly [string, string]>): Promise<void> {
  const file = path.join(gitDir, 'config');
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const next = withConfigValues(text, settings);
  if (next === undefined) {
    const git = gitAt({ gitDir });
    for (const [key, value] of settings) await git.raw(['config', key, value]);
    return;
  }
  if (next === text) return;
  const temp = `${file}.pacha-${process.pid}`;
  await writeFile(temp, next, { mode: 0o644 });
  await rename(temp, file);
}
