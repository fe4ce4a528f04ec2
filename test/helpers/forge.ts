// A repository made by hand on a master, as a hostile or broken master would hold it: files
// (the metadata among them, when wanted) committed once on main.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** `files` by path inside the repository; `prepare` may add what files cannot say (a symlink). */
export function forgeRepository(repo: string, files: Record<string, string>, prepare?: (repo: string) => void): void {
  mkdirSync(repo, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(repo, name)), { recursive: true });
    writeFileSync(path.join(repo, name), text);
  }
  prepare?.(repo);
  execFileSync('git', ['-C', repo, 'add', '-A']);
  execFileSync('git', ['-C', repo, '-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '-qm', 'forged']);
}
