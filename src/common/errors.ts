/**
 * kiboko's closed set of user-facing errors. Each carries a stable `code`, a human message,
 * a `hint` (the command or fix) and the underlying `cause`. The CLI maps codes to exit codes;
 * the daemon will map them to HTTP statuses.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'ENGINE_UNREACHABLE'
  | 'ENGINE_ERROR'
  | 'TARGET_NOT_FOUND'
  | 'CONFLICT'
  | 'ACTION_FAILED'
  | 'JOURNAL_ERROR'
  | 'KERNEL_FEATURE_MISSING'
  | 'CANCELLED'
  | 'TIMEOUT'
  | 'REGISTRY_UNAUTHORIZED'
  | 'REGISTRY_RATE_LIMITED'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_TLS'
  | 'INTERNAL';

export interface KibokoErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  details?: Record<string, unknown> | undefined;
}

export class KibokoError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: KibokoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KibokoError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: this.details } : {}),
      ...(this.cause instanceof Error ? { cause: this.cause.message } : {}),
    };
  }
}

export const invalidArgument = (message: string, hint?: string, cause?: unknown): KibokoError =>
  new KibokoError('INVALID_ARGUMENT', message, { hint, cause });

/** Wraps something unexpected: a bug in kiboko, reported with a request to file it. */
export class InternalError extends KibokoError {
  constructor(cause: unknown) {
    const what = cause instanceof Error ? cause.message : String(cause);
    super('INTERNAL', `internal error: ${what}`, {
      cause,
      hint: 'this is a bug in kiboko; please report it with `kiboko --version`, `docker version` and the command you ran',
    });
    this.name = 'InternalError';
  }
}

/** What reports, events and job records keep of a failure: its code, message and hint (no cause, no stack). */
export interface ErrorSummary {
  code: string;
  message: string;
  hint?: string | undefined;
}

export const errorSummary = (e: KibokoError): ErrorSummary => ({ code: e.code, message: e.message, hint: e.hint });

export function asKibokoError(err: unknown): KibokoError {
  if (err instanceof KibokoError) return err;
  if (isAbortError(err)) return new KibokoError('CANCELLED', 'cancelled', { cause: err });
  return new InternalError(err);
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR');
}

/** Exit codes the CLI uses; stable so CI scripts can branch on them. */
export const EXIT_CODES: Record<ErrorCode, number> = {
  ACTION_FAILED: 1,
  INVALID_ARGUMENT: 2,
  ENGINE_UNREACHABLE: 3,
  ENGINE_ERROR: 4,
  TARGET_NOT_FOUND: 5,
  CONFLICT: 6,
  JOURNAL_ERROR: 7,
  KERNEL_FEATURE_MISSING: 8,
  TIMEOUT: 9,
  REGISTRY_UNAUTHORIZED: 11,
  REGISTRY_RATE_LIMITED: 12,
  REGISTRY_UNREACHABLE: 13,
  REGISTRY_TLS: 14,
  CANCELLED: 130,
  INTERNAL: 70,
};

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
