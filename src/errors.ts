// Every expected failure is a PachaError: a code from the closed catalogue (error-codes.ts),
// which fixes its exit status, a message that names what is at fault, and a hint that says
// what to do next. The classes say which kind of failure it is; the code says which one.
// The CLI prints these without a stack trace; anything else is a bug and keeps its stack.

import { exitCodeOf, type CodeWithExit, type ErrorCode } from './error-codes.js';
import { ExitCode } from './error-codes.js';

export { ExitCode, type CodeWithExit, type ErrorCode } from './error-codes.js';

export interface PachaErrorOptions {
  hint?: string;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class PachaError extends Error {
  override name = 'PachaError';
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: PachaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = exitCodeOf(code);
    this.hint = options.hint;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint, ...this.details };
  }
}

/** Bad command line: exit 2. */
export class UsageError extends PachaError {
  override name = 'UsageError';
  constructor(message: string, options: PachaErrorOptions = {}) {
    super('EUSAGE', message, options);
  }
}

/** Bad configuration (file, environment, user data, SSM): exit 2, nothing touched. */
export class ConfigError extends PachaError {
  override name = 'ConfigError';
  constructor(message: string, options: PachaErrorOptions & { code?: CodeWithExit<2> } = {}) {
    super(options.code ?? 'ECONFIG', message, options);
  }
}

/** The master cannot be reached or cannot be trusted (host key): exit 3, nothing touched. */
export class MasterUnreachableError extends PachaError {
  override name = 'MasterUnreachableError';
  constructor(message: string, options: PachaErrorOptions & { code?: CodeWithExit<3> } = {}) {
    super(options.code ?? 'EUNREACHABLE', message, options);
  }
}

/**
 * A source boot needs (SSM, the EC2 metadata service) kept failing in a way that passes by
 * itself (no route, refused, timeout, throttling, HTTP 5xx) until pacha.boot.timeout ran
 * out: exit 3 like an unreachable master, so the unit tries again; never a configuration error.
 */
export class SourceUnreachableError extends PachaError {
  override name = 'SourceUnreachableError';
  constructor(message: string, options: PachaErrorOptions & { code?: CodeWithExit<3> } = {}) {
    super(options.code ?? 'ESOURCEUNREACHABLE', message, options);
  }
}

/** The master answered but refused or failed the request: exit 1. */
export class MasterError extends PachaError {
  override name = 'MasterError';
  constructor(message: string, options: PachaErrorOptions & { code?: CodeWithExit<1> } = {}) {
    super(options.code ?? 'EMASTER', message, options);
  }
}

/** A local operation failed (store, rebuild, hooks): exit 1. */
export class OperationError extends PachaError {
  override name = 'OperationError';
  constructor(code: CodeWithExit<1>, message: string, options: PachaErrorOptions = {}) {
    super(code, message, options);
  }
}

export function isPachaError(error: unknown): error is PachaError {
  return error instanceof PachaError;
}

/** The errno code of a Node system error, if it is one. */
export function errnoCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

const PRIVILEGE_CODES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
};

/**
 * A Node system error that means "not allowed here" (not root, a state dir this user cannot
 * write, a key file it cannot read), as a PachaError naming the path and what to do; other
 * errors are returned as they are.
 */
export function privilegeError(error: unknown): unknown {
  const code = errnoCode(error);
  if (!code || !Object.hasOwn(PRIVILEGE_CODES, code) || isPachaError(error)) return error;
  const { path: file, dest, syscall } = error as NodeJS.ErrnoException & { dest?: string };
  const where = [file, dest].filter(Boolean).join(' -> ') || 'a file';
  const user = typeof process.getuid === 'function' && process.getuid() !== 0 ? ` (pacha runs as uid ${process.getuid()}, not root)` : '';
  return new OperationError(code === 'EROFS' ? 'EREADONLY' : 'ENOPERMISSION', `${PRIVILEGE_CODES[code]}: ${syscall ?? 'access'} ${where}${user}`, {
    cause: error,
    hint:
      code === 'EROFS'
        ? `${where} is on a read-only file system; point pacha.state.path (or --state) elsewhere, or remount it read-write`
        : `run pacha as root (it restores owners and modes), or give this user access to ${where}; a state dir of your own: --state DIR or pacha.state.path`,
    details: { path: file ?? null, syscall: syscall ?? null, errno: code },
  });
}
