// Which entries of a tracked path pacha leaves out: gitignore-style patterns, anchored at
// the tracked path, matched by the `ignore` package (the matcher eslint and prettier use),
// never by hand-written globbing. The sources, in order (a later `!pattern` re-includes):
// pacha's defaults (unless pacha.ignore.defaults = false), pacha.ignore, the path's own
// `pacha watch --ignore` patterns.
import ignore from 'ignore';
import { DEFAULT_IGNORE } from '../config/keys.js';

export { DEFAULT_IGNORE };

export interface IgnoreSettings {
  /** pacha.ignore.defaults */
  defaults: boolean;
  /** pacha.ignore */
  patterns: readonly string[];
}

export const NO_IGNORE: IgnoreSettings = { defaults: false, patterns: [] };

/** pacha.ignore and pacha.ignore.defaults from merged settings. */
export function ignoreSettingsFrom(settings: { get(name: 'pacha.ignore'): string[] | undefined; get(name: 'pacha.ignore.defaults'): boolean | undefined }): IgnoreSettings {
  return { defaults: settings.get('pacha.ignore.defaults') ?? true, patterns: settings.get('pacha.ignore') ?? [] };
}

/** Decides for one tracked path: `rel` is '/'-separated, relative to the tracked path. */
export type IgnoreMatcher = (rel: string, isDirectory: boolean) => boolean;

export function effectivePatterns(settings: IgnoreSettings, own: readonly string[] = []): string[] {
  return [...(settings.defaults ? DEFAULT_IGNORE : []), ...settings.patterns, ...own];
}

export function ignoreMatcher(patterns: readonly string[]): IgnoreMatcher {
  if (patterns.length === 0) return () => false;
  const matcher = ignore({ allowRelativePaths: false }).add([...patterns]);
  return (rel, isDirectory) => rel !== '.' && matcher.ignores(isDirectory ? `${rel}/` : rel);
}

/** Whether a pattern is one the matcher accepts (a bad one would otherwise fail every commit). */
export function checkPattern(pattern: string): string | undefined {
  if (pattern.trim() === '') return 'is empty';
  if (pattern.includes('\0')) return 'contains a NUL byte';
  try {
    ignore().add(pattern).ignores('x');
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

/** An anchored pattern matching exactly one path (`pacha forget`): special characters escaped. */
export function literalPattern(rel: string): string {
  const escaped = rel.replace(/[\\*?[\]!#]/g, (c) => `\\${c}`).replace(/ $/, '\\ ');
  return `/${escaped}`;
}
