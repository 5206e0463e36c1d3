/** Scalar readers: zod/mini checks the value, the node's loc says where, the message says what was expected. */
import path from 'node:path';
import * as z from 'zod/mini';
import { parseDuration } from '../../common/duration.js';
import type { KibokoError } from '../../common/errors.js';
import type { Context } from './context.js';
import { isNull, scalarText, show, type MapNode, type Node, type Prim, type SeqNode } from './yaml.js';

/**
 * The schemas, built on first use: a plain file's numbers are read without them (int's fast
 * path), and building them was ~2 ms of every deploy command's start.
 */
function buildSchemas() {
  const integer = z.pipe(
    z.union([z.number(), z.pipe(z.string().check(z.regex(/^\s*[-+]?\d+\s*$/)), z.transform((s: string) => Number(s)))]),
    z.number().check(z.refine((n) => Number.isSafeInteger(n))),
  );
  const decimalText = z.string().check(z.regex(/^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/));
  const decimal = z.pipe(
    z.union([z.number(), z.pipe(decimalText, z.transform((s: string) => Number(s)))]),
    z.number().check(z.refine((n) => Number.isFinite(n))),
  );
  // compose's boolean casting, for values that were interpolated into strings.
  const boolean = z.union([
    z.boolean(),
    z.pipe(
      z.string().check(z.regex(/^(?:y|yes|true|on|n|no|false|off)$/i)),
      z.transform((s: string) => /^(?:y|yes|true|on)$/i.test(s)),
    ),
  ]);
  return { integer, decimal, boolean };
}
let built: ReturnType<typeof buildSchemas> | undefined;
export const schemas = () => (built ??= buildSchemas());

export function scalarValue(node: Node): Prim | undefined {
  return node.kind === 'scalar' ? node.value : undefined;
}

export function int(node: Node, ctx: Context, min: number, max: number, expected: string, docs: string): number | undefined {
  // A safe integer as written (`replicas: 3`) is what the schema gives for it.
  const v = scalarValue(node);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max) return v;
  return numberIn(schemas().integer, node, ctx, min, max, expected, docs);
}

export function ratio(node: Node, ctx: Context, docs: string): number | undefined {
  return numberIn(schemas().decimal, node, ctx, 0, 1, 'a ratio between 0 and 1', docs);
}

/** A number the schema reads (an integer, a decimal) in [min, max]; anything else is a problem saying what was expected. */
function numberIn(schema: z.ZodMiniType<number>, node: Node, ctx: Context, min: number, max: number, expected: string, docs: string): number | undefined {
  const r = schema.safeParse(scalarValue(node));
  if (!r.success || r.data < min || r.data > max) {
    ctx.problems.add(node.loc, `expected ${expected}, got ${show(node)}`, docs);
    return undefined;
  }
  return r.data;
}

export function bool(node: Node, ctx: Context, docs: string): boolean | undefined {
  const r = schemas().boolean.safeParse(scalarValue(node));
  if (!r.success) {
    ctx.problems.add(node.loc, `expected true or false, got ${show(node)}`, docs);
    return undefined;
  }
  return r.data;
}

export function oneOf<T extends string>(node: Node, ctx: Context, values: readonly T[], docs: string): T | undefined {
  const v = scalarValue(node);
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T; // what the enum schema accepts
  const r = z.enum(values as unknown as [T, ...T[]]).safeParse(scalarValue(node));
  if (!r.success) {
    ctx.problems.add(node.loc, `expected ${values.join(', ').replace(/, ([^,]*)$/, ' or $1')}, got ${show(node)}`, docs);
    return undefined;
  }
  return r.data as T;
}

/** A string; with `numbers`, a number is taken as written too (`user: 1000`, `command: [sleep, 5]`). */
export function str(node: Node, ctx: Context, expected: string, docs: string, numbers = false): string | undefined {
  if (node.kind === 'scalar' && typeof node.value === 'string') return node.value;
  if (numbers && node.kind === 'scalar' && typeof node.value === 'number') return scalarText(node);
  ctx.problems.add(node.loc, `expected ${expected}, got ${show(node)}`, docs);
  return undefined;
}

export function mapOf(node: Node, ctx: Context, expected: string, docs: string): MapNode | undefined {
  if (node.kind === 'map') return node;
  ctx.problems.add(node.loc, `expected ${expected}, got ${show(node)}`, docs);
  return undefined;
}

/** The node as a list, or a problem saying what list was expected (`a list of ports`). */
export function seqOf(node: Node, ctx: Context, expected: string, docs: string): SeqNode | undefined {
  if (node.kind === 'seq') return node;
  ctx.problems.add(node.loc, `expected ${expected}, got ${show(node)}`, docs);
  return undefined;
}

export function duration(node: Node, ctx: Context, docs: string): number | undefined {
  const text = node.kind === 'scalar' && (typeof node.value === 'string' || typeof node.value === 'number');
  const s = text ? scalarText(node) : undefined;
  if (s === undefined) {
    ctx.problems.add(node.loc, `expected a duration like 30s or 1m30s, got ${show(node)}`, docs);
    return undefined;
  }
  try {
    return parseDuration(s, 'duration');
  } catch (err) {
    ctx.problems.add(
      node.loc,
      `expected a duration like 30s or 1m30s, got ${show(node)}`,
      (err as KibokoError).hint ?? docs,
    );
    return undefined;
  }
}

export function absolutePath(node: Node, ctx: Context, docs: string): string | undefined {
  const s = str(node, ctx, 'an absolute path', docs);
  if (s === undefined) return undefined;
  if (!s.startsWith('/')) {
    ctx.problems.add(node.loc, `expected an absolute path in the container, got ${JSON.stringify(s)}`, docs);
    return undefined;
  }
  return s;
}

/** Optional keys are left out rather than set to undefined, so specs compare and print cleanly. */
export function omitUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out as T;
}

/** A key-value mapping or a `KEY=VALUE` list as strings (`KEY` alone, or `KEY:` with no value, gives ''). */
export function stringMap(node: Node, ctx: Context, what: string, docs: string): Record<string, string> | undefined {
  if (isNull(node)) return undefined;
  const out: Record<string, string> = {};
  if (node.kind === 'map') {
    for (const e of node.entries.values()) {
      if (e.value.kind !== 'scalar') ctx.problems.add(e.value.loc, `expected a string, number or boolean value, got ${show(e.value)}`, docs);
      else out[e.key] = scalarText(e.value);
    }
    return out;
  }
  if (node.kind === 'seq') {
    for (const item of node.items) {
      if (item.kind !== 'scalar' || typeof item.value !== 'string' || item.value === '' || item.value.startsWith('=')) {
        ctx.problems.add(item.loc, `expected "KEY=VALUE", got ${show(item)}`, docs);
        continue;
      }
      const eq = item.value.indexOf('=');
      if (eq < 0) out[item.value] = '';
      else out[item.value.slice(0, eq)] = item.value.slice(eq + 1);
    }
    return out;
  }
  ctx.problems.add(node.loc, `expected ${what} as a mapping or a list of "KEY=VALUE", got ${show(node)}`, docs);
  return undefined;
}

/** A list of strings, or one string standing for a list of one (`dns: 8.8.8.8`). */
export function stringList(node: Node, ctx: Context, what: string, docs: string, single = true): string[] | undefined {
  if (isNull(node)) return undefined;
  if (single && node.kind === 'scalar' && (typeof node.value === 'string' || typeof node.value === 'number')) return [scalarText(node)];
  const list = seqOf(node, ctx, `a list of ${what}`, docs);
  if (!list) return undefined;
  return list.items.flatMap((i) => str(i, ctx, what.replace(/s$/, ''), docs, true) ?? []);
}

// Docker's RAMInBytes: a number with an optional binary unit (b, k, m, g, t, p; kb, mb, … and kib, … alike).
const BYTES = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$/i;
const UNIT: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** A size: `512m`, `1.5g`, `1024` (bytes). `-1` is allowed where `unlimited` is. */
export function bytes(node: Node, ctx: Context, docs: string, unlimited = false): number | undefined {
  const v = scalarValue(node);
  if (typeof v === 'number' && Number.isInteger(v) && (v >= 0 || (unlimited && v === -1))) return v;
  const m = typeof v === 'string' ? BYTES.exec(v) : null;
  if (typeof v === 'string' && unlimited && v.trim() === '-1') return -1;
  if (!m) {
    ctx.problems.add(node.loc, `expected a size like 512m or 1g, got ${show(node)}`, docs);
    return undefined;
  }
  return Math.floor(Number(m[1]) * UNIT[m[2]!.toLowerCase()]!);
}

/** A decimal number in [min, max] (cpus: 0.5, "1.5"). */
export function decimalIn(node: Node, ctx: Context, min: number, max: number, expected: string, docs: string): number | undefined {
  return numberIn(schemas().decimal, node, ctx, min, max, expected, docs);
}

/** A file mode: a number as YAML reads it (`0440` is octal in YAML 1.1, as compose reads it) or an octal string. */
export function fileMode(node: Node, ctx: Context, docs: string): number | undefined {
  const v = scalarValue(node);
  if (node.kind === 'scalar' && typeof v === 'number' && Number.isInteger(v) && v >= 0) {
    // The yaml package reads 0440 as decimal 440 (YAML 1.2); compose (YAML 1.1) reads it as octal.
    const raw = node.raw ?? '';
    if (/^0[0-7]+$/.test(raw)) return parseInt(raw, 8);
    if (/^0o[0-7]+$/i.test(raw)) return parseInt(raw.slice(2), 8);
    if (v <= 0o7777) return v;
  }
  if (typeof v === 'string' && /^0?[0-7]{1,4}$/.test(v.trim())) return parseInt(v.trim(), 8);
  if (typeof v === 'number' || typeof v === 'string') {
    ctx.problems.add(node.loc, `expected a file mode like 0440, got ${show(node)}`, docs);
    return undefined;
  }
  ctx.problems.add(node.loc, `expected a file mode like 0440, got ${show(node)}`, docs);
  return undefined;
}

/** The value of a key written with a value, read with `read`; undefined when the key is absent or empty. */
export const optional = <T>(entry: { value: Node } | undefined, read: (n: Node) => T | undefined): T | undefined =>
  entry && !isNull(entry.value) ? read(entry.value) : undefined;

/** A host path resolved against the project folder (`~` is the home folder). */
export function hostPath(p: string, ctx: Context): string {
  const expanded = p === '~' || p.startsWith('~/') ? path.join(ctx.home, p.slice(1)) : p;
  return path.resolve(ctx.projectDir, expanded);
}
