// zod/mini: the same validation as zod in ~12 KB instead of ~450 KB, which keeps the CLI's start fast.
import * as z from 'zod/mini';
import { parseDuration } from '../common/duration.js';
import { invalidArgument } from '../common/errors.js';
import type { ConnectionFlags } from '../engine/index.js';

/** Parses an option through a zod schema, turning issues into "invalid --flag 'v': expected X" errors. */
export function parseWith<T>(schema: z.ZodMiniType<T>, value: unknown, flag: string, hint: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw invalidArgument(`invalid ${flag} '${String(value)}': ${issue?.message ?? 'invalid value'}`, hint);
}

/**
 * The schemas, built on first use: zod is evaluated only when the bundle first reads it
 * (scripts/build.mjs's stand-ins), and a command line without these flags never needs it.
 */
function buildSchemas() {
  const wholeNumber = z.pipe(
    z.union([
      z.number().check(z.refine((n) => Number.isInteger(n), { error: 'expected a whole number' })),
      z.pipe(z.string().check(z.trim(), z.regex(/^\d+$/, { error: 'expected a whole number' })), z.transform(Number)),
    ], { error: 'expected a whole number' }),
    z.number().check(z.refine((n) => n >= 0, { error: 'expected a number ≥ 0' })),
  );
  const atLeastOne = z.pipe(wholeNumber, z.number().check(z.refine((n) => n >= 1, { error: 'expected a number ≥ 1' })));
  const seed32 = z.pipe(wholeNumber, z.number().check(z.refine((n) => n <= 0xffffffff, { error: 'expected a number below 2^32' })));
  return { wholeNumber, atLeastOne, seed32 };
}
let built: ReturnType<typeof buildSchemas> | undefined;
const schemas = () => (built ??= buildSchemas());

/** `--limit`: a whole number, 0 (all) when absent (the default is taken as it is, without zod). */
export const parseLimit = (v: unknown) => {
  const n = v ?? 0;
  return n === 0 ? 0 : parseWith(schemas().wholeNumber, n, '--limit', 'use --limit N (0 means all)');
};
/** `deploy history --limit`: revisions per project, at least one (default 20). */
export const parseHistoryLimit = (v: unknown) => {
  const n = v ?? 20;
  return n === 20 ? 20 : parseWith(schemas().atLeastOne, n, '--limit', 'use --limit N (revisions per project, default 20)');
};
export const parseConcurrency = (v: unknown) =>
  parseWith(schemas().atLeastOne, v, '--concurrency', 'use --concurrency 16');
export const parseSeed = (v: unknown) =>
  parseWith(schemas().seed32, v, '--seed', 'use the seed a previous run reported');

/** Repeatable and comma-separated values (`--port 80,443 --port 8080`), flattened. */
export const commaList = (v: readonly string[] | undefined): string[] =>
  (v ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);

/** Seconds given as a whole number (Pumba's `--time 5`) or as a duration (`5s`, `1500ms`, rounded up). */
export function parseSeconds(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text);
  return Math.ceil(parseDuration(text, flag) / 1000);
}

/** Duration flags; `required` yields the error Pumba users know ("unset or invalid duration"). */
export function parseDurationFlag(value: unknown, flag: string, required: true): number;
export function parseDurationFlag(value: unknown, flag: string, required?: false): number | undefined;
export function parseDurationFlag(value: unknown, flag: string, required = false): number | undefined {
  if (value === undefined || value === '') {
    if (required) throw invalidArgument(`${flag} is required: unset or invalid duration value`, `give it, e.g. ${flag} 10s`);
    return undefined;
  }
  const ms = parseDuration(String(value), flag);
  if (required && ms <= 0) throw invalidArgument(`invalid ${flag} '${String(value)}': must be longer than 0`, `e.g. ${flag} 10s`);
  return ms;
}

/** `--force`, `--force=true`, `--force=false` (Pumba's BoolT flags), also `--no-force`. */
export function parseBoolFlag(value: unknown, flag: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  const v = String(value).toLowerCase();
  if (['true', '1', 'yes', 't'].includes(v)) return true;
  if (['false', '0', 'no', 'f'].includes(v)) return false;
  throw invalidArgument(`invalid ${flag} '${String(value)}': expected true or false`, `use ${flag} or ${flag}=false`);
}

/** The engine connection from the engine flags (ENGINE_OPTIONS); anything else in `opts` is left out. */
export function connectionFlags(opts: Readonly<Record<string, unknown>>): ConnectionFlags {
  const str = (k: string) => {
    const v = opts[k];
    return typeof v === 'string' ? v : undefined;
  };
  return {
    host: str('host'),
    tls: opts.tls === true ? true : undefined,
    tlsverify: opts.tlsverify === true ? true : undefined,
    tlscacert: str('tlscacert'),
    tlscert: str('tlscert'),
    tlskey: str('tlskey'),
  };
}
