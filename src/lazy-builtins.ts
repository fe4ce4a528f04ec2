// Node builtins that are costly to load and that a short command never calls, taken on first
// use instead of when a module is imported (issue 14, target 5: `pacha status` start-up).
// `import { createHash } from 'node:crypto'` loads all of crypto, WebCrypto included, as soon
// as the importing module loads, though pacha hashes or picks a random name only when it
// writes; child_process likewise loads net, dgram and the stream stack for a git that status
// never starts. process.getBuiltinModule (Node ≥ 20.16) returns the module Node has already
// loaded, so a second call costs a lookup.

/** node:crypto, loaded at the first call. */
export function crypto(): typeof import('node:crypto') {
  return process.getBuiltinModule('node:crypto');
}

/** node:child_process, loaded at the first call. */
export function childProcess(): typeof import('node:child_process') {
  return process.getBuiltinModule('node:child_process');
}
