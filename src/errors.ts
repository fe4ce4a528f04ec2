// Every expected failure is a PachaError: a stable code, the exit code DESIGN.md gives it,
// a message that names what is at fault, and a hint that says what to do next.
// The CLI prints these without a stack trace; anything else is a bug and keeps its stack.

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  partial: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface PachaErrorOptions {
  hint?: string;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class PachaError extends Error {
  override name = 'PachaError';
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, exitCode: ExitCode, message: string, options: PachaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = exitCode;
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
    super('EUSAGE', ExitCode.usage, message, options);
  }
}

/** Bad configuration (file, environment, user data, SSM): exit 2, nothing touched. */
export class ConfigError extends PachaError {
  override name = 'ConfigError';
  constructor(message: string, options: PachaErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'ECONFIG', ExitCode.usage, message, options);
  }
}

/** The master cannot be reached or cannot be trusted (host key): exit 3, nothing touched. */
export class MasterUnreachableError extends PachaError {
  override name = 'MasterUnreachableError';
  constructor(message: string, options: PachaErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'EUNREACHABLE', ExitCode.unreachable, message, options);
  }
}

/**
 * A source boot needs (SSM, the EC2 metadata service) kept failing in a way that passes by
 * itself (no route, refused, timeout, throttling, HTTP 5xx) until pacha.boot.timeout ran
 * out: exit 3 like an unreachable master, so the unit tries again; never a configuration error.
 */
export class SourceUnreachableError extends PachaError {
  override name = 'SourceUnreachableError';
  constructor(message: string, options: PachaErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'ESOURCEUNREACHABLE', ExitCode.unreachable, message, options);
  }
}

/** The master answered but refused or failed the request: exit 1. */
export class MasterError extends PachaError {
  override name = 'MasterError';
  constructor(message: string, options: PachaErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'EMASTER', ExitCode.failed, message, options);
  }
}

/** A local operation failed (store, rebuild, hooks): exit 1. */
export class OperationError extends PachaError {
  override name = 'OperationError';
  constructor(code: string, message: string, options: PachaErrorOptions = {}) {
    super(code, ExitCode.failed, message, options);
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
