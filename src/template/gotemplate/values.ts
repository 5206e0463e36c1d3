import { T, type FuncSignature, type GoMethod, type GoType, type Kind, parseTypeSpec } from './types.js';

/** A numeric value of an explicit Go type: float64 holding 3 (prints "3", but is not an int), uint8, time.Month… */
export class GoNumber {
  constructor(
    readonly type: GoType,
    readonly value: number | bigint,
  ) {}
  toString(): string {
    return String(this.value);
  }
}

/** complex128, only because template literals like 1+2i are legal Go. */
export class GoComplex {
  constructor(
    readonly re: number,
    readonly im: number,
  ) {}
}

/** Put on a class as `static [GO_TYPE] = T.struct(…)` to give its instances a Go struct type. */
export const GO_TYPE: unique symbol = Symbol.for('kiboko.gotemplate.type');

const typeTags = new WeakMap<object, GoType>();

/** Tags an array, map or function with a Go type (e.g. `[]string`, `memkv.KVPairs`). Returns the value. */
export function withGoType<V extends object>(value: V, type: GoType): V {
  typeTags.set(value, type);
  return value;
}

export const float64 = (n: number): GoNumber => new GoNumber(T.float64, n);

/** Declares a template function with a Go signature, so arguments are checked and converted like Go does. */
export function goFunc<F extends (...args: never[]) => unknown>(
  spec: { params: readonly (string | GoType)[]; variadic?: boolean; result?: string | GoType; error?: boolean },
  fn: F,
): F {
  const sig: FuncSignature = {
    params: spec.params.map((p) => parseTypeSpec(p)),
    variadic: spec.variadic ?? false,
    result: parseTypeSpec(spec.result ?? 'any'),
    returnsError: spec.error ?? false,
  };
  return withGoType(fn, T.func(sig));
}

/** A method for a struct type: `method(['string'], 'string', (t, layout) => …)`. */
export function goMethod(
  params: readonly (string | GoType)[],
  result: string | GoType,
  fn: (receiver: never, ...args: never[]) => unknown,
  opts: { variadic?: boolean; error?: boolean } = {},
): GoMethod {
  return {
    sig: {
      params: params.map((p) => parseTypeSpec(p)),
      variadic: opts.variadic ?? false,
      result: parseTypeSpec(result),
      returnsError: opts.error ?? false,
    },
    fn: fn as (receiver: unknown, ...args: unknown[]) => unknown,
  };
}

const ANY_FUNC = T.func({ params: [T.any], variadic: true, result: T.any, returnsError: true });

export function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The Go type of a value, or undefined for an invalid value (undefined) or a nil interface (null). */
export function typeOf(v: unknown): GoType | undefined {
  switch (typeof v) {
    case 'undefined':
      return undefined;
    case 'string':
      return T.string;
    case 'boolean':
      return T.bool;
    case 'number':
      // Integers beyond 2^53 cannot be Go ints exactly; like JSON-decoded Go data they are float64.
      return Number.isSafeInteger(v) ? T.int : T.float64;
    case 'bigint':
      return T.int;
    case 'function':
      return typeTags.get(v) ?? ANY_FUNC;
    case 'object': {
      if (v === null) return undefined;
      if (v instanceof GoNumber) return v.type;
      if (v instanceof GoComplex) return T.complex128;
      const tag = typeTags.get(v);
      if (tag) return tag;
      if (Array.isArray(v)) return T.slice(T.any);
      if (v instanceof Map) return T.map(T.string, T.any);
      if (isPlainObject(v)) return T.map(T.string, T.any);
      const ctor = (v as { constructor?: unknown }).constructor as { [GO_TYPE]?: GoType; name?: string } | undefined;
      const declared = ctor && Object.hasOwn(ctor, GO_TYPE) ? ctor[GO_TYPE] : undefined;
      if (declared) return declared;
      return T.struct(`${ctor?.name || 'object'}`, undefined);
    }
    default:
      // symbols: not representable in Go; treat as an opaque struct
      return T.struct('symbol', []);
  }
}

export function kindOf(v: unknown): Kind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'interface';
  return typeOf(v)!.kind;
}

export function isMap(v: unknown): v is Map<unknown, unknown> | Record<string, unknown> {
  return kindOf(v) === 'map';
}

/** Keys of a Go map value (plain object or Map), unsorted. */
export function mapKeys(m: object): unknown[] {
  if (m instanceof Map) return [...m.keys()];
  return Object.keys(m);
}

export function mapLen(m: object): number {
  if (m instanceof Map) return m.size;
  return Object.keys(m).length;
}

/**
 * Looks a key up in a Go map value. Returns `{found:false}` for a missing key; a present key
 * holding undefined/null yields null (a nil interface{} element). Never reads inherited properties.
 */
export function mapGet(m: object, key: unknown): { found: boolean; value: unknown } {
  if (m instanceof Map) {
    if (!m.has(key)) return { found: false, value: undefined };
    const v = m.get(key);
    return { found: true, value: v === undefined ? null : v };
  }
  if (typeof key !== 'string' || !Object.hasOwn(m, key)) return { found: false, value: undefined };
  const v = (m as Record<string, unknown>)[key];
  return { found: true, value: v === undefined ? null : v };
}

/** Field names of a struct value in declaration order. */
export function structFields(v: object, t: GoType): readonly string[] {
  return t.fields ?? Object.keys(v);
}

export function structHasField(v: object, t: GoType, name: string): boolean {
  if (t.fields) return t.fields.includes(name);
  return Object.hasOwn(v, name);
}

export function structGet(v: object, name: string): unknown {
  if (!Object.hasOwn(v, name)) return undefined;
  const f = (v as Record<string, unknown>)[name];
  return f === undefined ? null : f;
}

/** A method of the value's type, if the type declares one with that name. */
export function methodOf(v: unknown, name: string): GoMethod | undefined {
  const t = typeOf(v);
  if (!t?.methods || !Object.hasOwn(t.methods, name)) return undefined;
  return t.methods[name];
}

/** Integer value of an int/uint-kinded value as a bigint. */
export function intOf(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint') return v;
  if (v instanceof GoNumber) return typeof v.value === 'bigint' ? v.value : BigInt(Math.trunc(v.value));
  throw new Error('not an integer');
}

/** Float value of a numeric value. */
export function floatOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof GoNumber) return Number(v.value);
  throw new Error('not a number');
}

/** A JS number when the integer is exactly representable, else the bigint. */
export function intValue(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** Makes an int-typed value: a JS integer number, or a bigint beyond 2^53. */
export function makeInt(n: bigint | number): number | bigint {
  return typeof n === 'number' ? n : intValue(n);
}

/** Makes a value of the given numeric type, reusing plain JS numbers for int and non-integral float64. */
export function makeNumber(t: GoType, n: number | bigint): unknown {
  if (t === T.int) return makeInt(n);
  if (t === T.float64 && typeof n === 'number' && !Number.isSafeInteger(n)) return n;
  return new GoNumber(t, n);
}

/** Length of a string in bytes (Go strings are UTF-8 byte sequences). */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Go's truthiness ("if"/"with"/and/or/not): zero values are false.
 * Returns undefined where Go reports "if/with can't use …" (no kind of truth).
 */
export function isTrue(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return false;
  const t = typeOf(v)!;
  switch (t.kind) {
    case 'string':
      return (v as string).length > 0;
    case 'bool':
      return v as boolean;
    case 'slice':
    case 'array':
      return (v as unknown[]).length > 0;
    case 'map':
      return mapLen(v as object) > 0;
    case 'complex64':
    case 'complex128':
      return (v as GoComplex).re !== 0 || (v as GoComplex).im !== 0;
    case 'func':
    case 'ptr':
    case 'interface':
      return true;
    case 'struct':
      return true;
    default:
      if (t.kind.startsWith('int') || t.kind.startsWith('uint')) return intOf(v) !== 0n;
      if (t.kind.startsWith('float')) return floatOf(v) !== 0;
      return undefined;
  }
}

/** Length as Go's len(): bytes for strings, elements for slices, entries for maps. */
export function lengthOf(v: unknown): number | undefined {
  const k = kindOf(v);
  switch (k) {
    case 'string':
      return byteLength(v as string);
    case 'slice':
    case 'array':
      return (v as unknown[]).length;
    case 'map':
      return mapLen(v as object);
    default:
      return undefined;
  }
}

/** Element type of a slice/array/map value. */
export function elemType(v: unknown): GoType {
  return typeOf(v)?.elem ?? T.any;
}

export function isFunction(v: unknown): v is (...args: unknown[]) => unknown {
  return typeof v === 'function';
}

/** Signature of a function value (plain JS functions: variadic interface{}). */
export function signatureOf(fn: unknown): FuncSignature {
  return (typeOf(fn)?.sig ?? ANY_FUNC.sig)!;
}
