import { asKibokoError, KibokoError, type ErrorCode } from '../common/errors.js';

/** How each kiboko error code reaches an HTTP client of the native API and the hooks. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  TARGET_NOT_FOUND: 404,
  CONFLICT: 409,
  KERNEL_FEATURE_MISSING: 422,
  ACTION_FAILED: 422,
  CANCELLED: 409,
  ENGINE_UNREACHABLE: 503,
  ENGINE_ERROR: 502,
  TIMEOUT: 504,
  REGISTRY_UNAUTHORIZED: 502,
  REGISTRY_RATE_LIMITED: 503,
  REGISTRY_UNREACHABLE: 502,
  REGISTRY_TLS: 502,
  JOURNAL_ERROR: 500,
  INTERNAL: 500,
};

export interface ApiErrorBody {
  error: { code: string; message: string; hint?: string | undefined; details?: Record<string, unknown> | undefined };
}

/** An error the edge answers with a given status (404 route, 405 method, 413 body, 415 type…). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * Maps anything thrown below the edge to a status and the native API's JSON error body. 5xx bodies
 * keep the code but not internal detail (it is logged instead).
 */
export function toHttpError(err: unknown): { status: number; body: ApiErrorBody; headers: Record<string, string> } {
  if (err instanceof HttpError) {
    return { status: err.status, body: { error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } }, headers: err.headers };
  }
  const e = err instanceof KibokoError ? err : asKibokoError(err);
  const status = HTTP_STATUS[e.code] ?? 500;
  const internal = e.code === 'INTERNAL' || e.code === 'JOURNAL_ERROR';
  return {
    status,
    body: {
      error: {
        code: e.code,
        message: internal ? 'internal error; see the daemon log' : e.message,
        ...(e.hint && !internal ? { hint: e.hint } : {}),
        ...(e.details && !internal ? { details: e.details } : {}),
      },
    },
    headers: {},
  };
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  keys?: string[];
  maximum?: number | bigint;
  minimum?: number | bigint;
  values?: unknown[];
  origin?: string;
}

const shown = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? 'a list' : 'an object';
};

const at = (input: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), input);

/** A zod issue as "field: expected X, got Y" (zod/mini has no messages of its own). */
export function describeIssue(issue: Issue, input: unknown): string {
  const where = issue.path.length ? issue.path.map(String).join('.') : 'body';
  const got = shown(at(input, issue.path));
  const unit = issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : '';
  switch (issue.code) {
    case 'invalid_type':
      return `${where}: expected ${issue.expected === 'int' ? 'a whole number' : issue.expected}, got ${got}`;
    case 'unrecognized_keys':
      return `${where}: unknown field${(issue.keys?.length ?? 0) > 1 ? 's' : ''} ${(issue.keys ?? []).map((k) => JSON.stringify(k)).join(', ')}`;
    case 'too_big':
      return `${where}: expected at most ${String(issue.maximum)}${unit}, got ${unit ? 'more' : got}`;
    case 'too_small':
      return `${where}: expected at least ${String(issue.minimum)}${unit}, got ${unit ? 'fewer' : got}`;
    case 'invalid_value':
      return `${where}: expected one of ${(issue.values ?? []).map(String).join(', ')}, got ${got}`;
    default:
      return `${where}: ${issue.message === 'Invalid input' ? 'invalid value' : issue.message}, got ${got}`;
  }
}
