// Node's compile cache (V8 code cache on disk, `module.enableCompileCache`, Node ≥ 22.1) for
// the CLI's own modules: a command's second run onwards skips compiling them (issue 14:
// `pacha status` start-up). Feature-detected: Node 20 has no such function and gets nothing.
//
// The cache holds code that runs as whoever runs pacha (root, mostly), so it lives only in a
// directory that user owns and nobody else can write: /var/cache/pacha/node-compile-cache
// for root, else $XDG_CACHE_HOME/pacha/… or ~/.cache/pacha/… — never a shared /tmp. A
// directory that fails the check is not used, silently: the cache only saves time.
// NODE_COMPILE_CACHE (Node's own variable) and NODE_DISABLE_COMPILE_CACHE are left to Node.
import { lstatSync, mkdirSync } from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** Where this user's cache goes (pure). */
export function compileCacheDir(env: NodeJS.ProcessEnv, uid: number, home: string): string {
  if (uid === 0) return '/var/cache/pacha/node-compile-cache';
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(home, '.cache');
  return path.join(base, 'pacha', 'node-compile-cache');
}

/** Turn the cache on when Node has it; the directory used, or undefined. Never throws. */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const enable = (module as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
  if (typeof enable !== 'function' || env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  try {
    const uid = process.getuid?.() ?? -1;
    const dir = compileCacheDir(env, uid, os.homedir());
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stats = lstatSync(dir);
    if (!stats.isDirectory() || stats.uid !== uid || (stats.mode & 0o022) !== 0) return undefined;
    enable(dir);
    return dir;
  } catch {
    return undefined;
  }
}
