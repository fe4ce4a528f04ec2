// Hooks: the executables an admin puts in pacha_pre/ and pacha_post/ on the master,
// run around the placing of files during a rebuild.
export { orderHooks } from './order.js';
export type { HookEntry, HookEntryType, HookOrder, SkippedHook } from './order.js';
export { DEFAULT_KILL_GRACE_MS, hookEnvironment, hookFailed, runHooks } from './run.js';
export type { HookRun, RunHooksOptions } from './run.js';
export type { HookContext, HookPhase, HookResult, OutputStream } from './types.js';
export { HookError, describeHookEnd } from './error.js';
export type { HookErrorOptions } from './error.js';
