/**
 * Readers of one compose key into one field, for the tables of keys the loader reads (a service's
 * container keys, `build:`): `field: text('what it must be')` instead of a case each.
 */
import type { Context } from './context.js';
import { bool, str, stringList, stringMap } from './scalars.js';
import type { Entry, Node } from './yaml.js';

/** Reads `v` (the value of entry `e`) into `out`; `docs` is the hint for problems. */
export type KeyReader<T> = (v: Node, out: T, ctx: Context, docs: string, e: Entry) => void;

const set = <T>(out: T, field: keyof T, value: unknown) => {
  (out as Record<keyof T, unknown>)[field] = value;
};

/** A string (numbers and booleans as written, with `coerce`). */
export const textKey = <T>(field: keyof T, what: string, coerce = false): KeyReader<T> => (v, out, ctx, docs) => set(out, field, str(v, ctx, what, docs, coerce));
export const boolKey = <T>(field: keyof T): KeyReader<T> => (v, out, ctx, docs) => set(out, field, bool(v, ctx, docs));
/** A list of strings (`single`: one string counts as a list of one). */
export const listKey = <T>(field: keyof T, what: string, single = true): KeyReader<T> => (v, out, ctx, docs) => set(out, field, stringList(v, ctx, what, docs, single));
/** A mapping (or a list of KEY=VALUE) of strings. */
export const mapKey = <T>(field: keyof T, what: string): KeyReader<T> => (v, out, ctx, docs) => set(out, field, stringMap(v, ctx, what, docs));
/** Any reader of a value into one field. */
export const valueKey = <T>(field: keyof T, read: (v: Node, ctx: Context, docs: string) => unknown): KeyReader<T> => (v, out, ctx, docs) => set(out, field, read(v, ctx, docs));
