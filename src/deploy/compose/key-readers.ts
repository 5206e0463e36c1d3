/**
 * Readers of one compose key into one field, for the tables of keys the loader reads (a service's
 * container keys, `build:`, logging, hooks, device requests, resources, IPAM, …): `field:
 * textKey('what it must be')` instead of a case each, and `readKeys` to read a mapping by a table.
 */
import type { Context } from './context.js';
import { bool, mapOf, seqOf, str, stringList, stringMap } from './scalars.js';
import { isNull, type Entry, type MapNode, type Node } from './yaml.js';
import { own } from '../../common/own.js';

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

/** `a, b or c`: the keys a table takes, for the hint of an unknown one. */
const listed = (keys: readonly string[]) => (keys.length < 2 ? keys.join('') : `${keys.slice(0, -1).join(', ')} or ${keys.at(-1)}`);

/**
 * Reads a mapping's entries into `out` through a table of key readers: a key written without a
 * value is left unset, `x-…` keys are passed over when `extensions` is set, and any other key is a
 * problem (`unknown <name> "k"`) whose hint lists the keys taken (`expected`, or the table's, in its order).
 */
export function readKeys<T>(
  map: MapNode,
  out: T,
  keys: Readonly<Record<string, KeyReader<T>>>,
  ctx: Context,
  docs: string,
  unknown: { name: string; extensions?: boolean; expected?: readonly string[] },
): T {
  for (const e of map.entries.values()) {
    if (isNull(e.value)) continue;
    const read = own(keys, e.key);
    if (read) read(e.value, out, ctx, docs, e);
    else if (!(unknown.extensions && e.key.startsWith('x-'))) {
      ctx.problems.add(e.keyLoc, `unknown ${unknown.name} ${JSON.stringify(e.key)}`, `expected ${listed(unknown.expected ?? Object.keys(keys))}; ${docs}`);
    }
  }
  return out;
}

/**
 * A list of mappings (hooks, device requests, IPAM pools): each item that is a mapping is read by
 * `read` (undefined leaves it out, after `read` said why), any other item is a problem.
 */
export function readMapList<T>(node: Node, ctx: Context, docs: string, expected: { list: string; item: string }, read: (m: MapNode) => T | undefined): T[] | undefined {
  const list = seqOf(node, ctx, expected.list, docs);
  return list?.items.flatMap((item) => {
    const m = mapOf(item, ctx, expected.item, docs);
    const value = m && read(m);
    return value === undefined ? [] : [value];
  });
}
