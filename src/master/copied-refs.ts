// The last step of every Master.copyRefs (S3's bundles, SSH's upload-pack over the kept
// connection): the checks git makes after a fetch, then the refs set. Every object the
// copied refs reach must be present (git's connectivity check: `rev-list --objects` from the
// new tips, stopping at what the repository already has and at its shallow boundary; or the
// caller's proof, a pack that links only to itself and holds every tip) before any ref is set, and the refs are set in one `update-ref --stdin` transaction: a master
// missing an object fails the copy and leaves no ref behind.
import { gitAt } from '../store/git.js';

export interface CopiedRef {
  /** The master's ref name. */
  ref: string;
  /** The local ref it is copied to. */
  local: string;
  sha: string;
}

/** git in the local git dir (or another one given): stdout, with `input` on its standard input. */
export type LocalGit = (args: string[], options?: { gitDir?: string; input?: string }) => Promise<string>;

/** A LocalGit over pacha's own git runner (store/git.ts): a minimal environment, never the caller's. */
export function localGitRun(gitDir: string): LocalGit {
  return (args, options = {}) => {
    const git = gitAt({ gitDir: options.gitDir ?? gitDir });
    return options.input === undefined ? git.raw(args) : git.bytes(args, Buffer.from(options.input)).then((out) => out.toString('utf8'));
  };
}

/**
 * Check that `copied` is complete (unless the caller knows it is: `connected`), then set every
 * local ref; `incomplete` is the error's words when it is not (naming the master). The refs
 * copied, master's name -> commit.
 */
export async function setCopiedRefs(git: LocalGit, copied: readonly CopiedRef[], incomplete: string, options: { connected?: boolean } = {}): Promise<Record<string, string>> {
  if (copied.length === 0) return {};
  const tips = [...new Set(copied.map((c) => c.sha))];
  // `connected`: the caller already knows (a pack that links only to itself and holds every tip).
  if (!options.connected) {
    await git(['rev-list', '--objects', '--quiet', ...tips, '--not', '--all', '--']).catch((error: unknown) => {
      throw new Error(`${incomplete} (${(error as Error).message.trim().split('\n')[0]})`);
    });
  }
  await git(['update-ref', '--stdin'], { input: copied.map((c) => `update ${c.local} ${c.sha}\n`).join('') });
  return Object.fromEntries(copied.map((c) => [c.ref, c.sha]));
}
