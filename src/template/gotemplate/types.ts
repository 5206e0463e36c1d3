/**
 * A small model of Go's reflect types, enough for text/template semantics: what a value prints
 * as (`%T`, error messages), which values may be passed to a typed function parameter, and how
 * a value is printed, ranged over, indexed and compared.
 *
 * JavaScript values map onto Go values like this (see values.ts `typeOf`):
 *   undefined            → invalid reflect.Value (missing map key, "no value")
 *   null                 → nil interface{} (a present map element holding nil, JSON null)
 *   string / boolean     → string / bool
 *   number               → int when integral, float64 otherwise
 *   bigint               → int (for values beyond 2^53)
 *   GoNumber             → any other numeric type (float64 holding an integral value, uint8, …)
 *   Array                → slice ([]interface {} unless tagged with withGoType)
 *   plain object / Map   → map[string]interface {} (unless tagged)
 *   class instance       → struct; its own enumerable properties are the fields
 *   function             → func (a plain JS function takes ...interface {} and returns interface {})
 */

export type Kind =
  | 'invalid'
  | 'bool'
  | 'int'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'uintptr'
  | 'float32'
  | 'float64'
  | 'complex64'
  | 'complex128'
  | 'string'
  | 'slice'
  | 'array'
  | 'map'
  | 'struct'
  | 'ptr'
  | 'func'
  | 'interface'
  /** Go's reflect.Value as a parameter type: accepts anything, including an invalid value. */
  | 'reflectValue';

/** A method callable from a template as `.Name args…` on a value of the owning type. */
export interface GoMethod {
  readonly sig: FuncSignature;
  readonly fn: (receiver: unknown, ...args: unknown[]) => unknown;
}

export interface FuncSignature {
  /** Parameter types; with `variadic`, the last one is the element type of the `...` part. */
  readonly params: readonly GoType[];
  readonly variadic: boolean;
  /** The first result type (documentation and `%T` only; results are not checked). */
  readonly result: GoType;
  /** Whether the Go function would also return an error (the JS function throws instead). */
  readonly returnsError: boolean;
}

export interface GoType {
  readonly kind: Kind;
  /** What reflect.Type.String() prints: "[]string", "map[string]interface {}", "memkv.KVPair". */
  readonly name: string;
  /** A defined (named) type, as opposed to a type literal. */
  readonly named: boolean;
  readonly elem?: GoType | undefined;
  readonly key?: GoType | undefined;
  /** Struct field names in declaration order (undefined: use the instance's own keys). */
  readonly fields?: readonly string[] | undefined;
  readonly methods?: Readonly<Record<string, GoMethod>> | undefined;
  readonly sig?: FuncSignature | undefined;
  /** Whether values of the type may be compared with == (structs of comparable fields). */
  readonly comparable?: boolean | undefined;
}

function basic(kind: Kind, name: string = kind): GoType {
  return { kind, name, named: true, comparable: true };
}

const sliceCache = new Map<GoType, GoType>();
const ptrCache = new Map<GoType, GoType>();

export const T = {
  invalid: { kind: 'invalid', name: '<invalid reflect.Value>', named: false } as GoType,
  bool: basic('bool'),
  int: basic('int'),
  int8: basic('int8'),
  int16: basic('int16'),
  int32: basic('int32'),
  int64: basic('int64'),
  uint: basic('uint'),
  uint8: basic('uint8'),
  uint16: basic('uint16'),
  uint32: basic('uint32'),
  uint64: basic('uint64'),
  uintptr: basic('uintptr'),
  float32: basic('float32'),
  float64: basic('float64'),
  complex128: basic('complex128'),
  string: basic('string'),
  any: { kind: 'interface', name: 'interface {}', named: false, comparable: true } as GoType,
  error: { kind: 'interface', name: 'error', named: true, comparable: true } as GoType,
  value: { kind: 'reflectValue', name: 'reflect.Value', named: true } as GoType,

  slice(elem: GoType): GoType {
    let t = sliceCache.get(elem);
    if (!t) {
      t = { kind: 'slice', name: `[]${elem.name}`, named: false, elem, comparable: false };
      sliceCache.set(elem, t);
    }
    return t;
  },
  map(key: GoType, elem: GoType): GoType {
    return { kind: 'map', name: `map[${key.name}]${elem.name}`, named: false, key, elem, comparable: false };
  },
  ptr(elem: GoType): GoType {
    let t = ptrCache.get(elem);
    if (!t) {
      t = { kind: 'ptr', name: `*${elem.name}`, named: false, elem, comparable: true };
      ptrCache.set(elem, t);
    }
    return t;
  },
  /** A defined type over an unnamed one, e.g. `type KVPairs []KVPair`. */
  named(name: string, underlying: GoType, methods?: Record<string, GoMethod>): GoType {
    return { ...underlying, name, named: true, methods, underlyingName: underlying.name } as GoType;
  },
  struct(name: string, fields: readonly string[] | undefined, methods?: Record<string, GoMethod>, comparable = true): GoType {
    return { kind: 'struct', name, named: true, fields, methods, comparable };
  },
  func(sig: FuncSignature): GoType {
    const params = sig.params.map((p, i) =>
      sig.variadic && i === sig.params.length - 1 ? `...${p.name}` : p.name,
    );
    const result = sig.returnsError ? `(${sig.result.name}, error)` : sig.result.name;
    return { kind: 'func', name: `func(${params.join(', ')}) ${result}`, named: false, sig, comparable: false };
  },
};

/** The underlying unnamed type's name, used by Go's assignability rule for defined types. */
export function underlyingName(t: GoType): string {
  return (t as GoType & { underlyingName?: string }).underlyingName ?? t.name;
}

export const INT_KINDS: ReadonlySet<Kind> = new Set(['int', 'int8', 'int16', 'int32', 'int64']);
export const UINT_KINDS: ReadonlySet<Kind> = new Set(['uint', 'uint8', 'uint16', 'uint32', 'uint64', 'uintptr']);
export const FLOAT_KINDS: ReadonlySet<Kind> = new Set(['float32', 'float64']);

export function isIntKind(k: Kind): boolean {
  return INT_KINDS.has(k);
}
export function isUintKind(k: Kind): boolean {
  return UINT_KINDS.has(k);
}
export function isFloatKind(k: Kind): boolean {
  return FLOAT_KINDS.has(k);
}
export function isNumericKind(k: Kind): boolean {
  return INT_KINDS.has(k) || UINT_KINDS.has(k) || FLOAT_KINDS.has(k) || k === 'complex64' || k === 'complex128';
}

/** Go's canBeNil: whether an untyped nil can be assigned to the type. */
export function canBeNil(t: GoType): boolean {
  switch (t.kind) {
    case 'func':
    case 'interface':
    case 'map':
    case 'ptr':
    case 'slice':
    case 'reflectValue':
      return true;
    default:
      return false;
  }
}

/** Go's AssignableTo, restricted to the types this model can express. */
export function assignableTo(from: GoType, to: GoType): boolean {
  if (to.kind === 'reflectValue') return true;
  if (from.name === to.name) return true;
  if (to.kind === 'interface') {
    // Only the empty interface and error are modelled; error needs an Error method.
    if (to.name === 'interface {}') return true;
    return Boolean(from.methods && Object.hasOwn(from.methods, 'Error'));
  }
  // Identical underlying types and at least one side is not a defined type.
  if ((!from.named || !to.named) && underlyingName(from) === underlyingName(to) && from.kind === to.kind) {
    return true;
  }
  return false;
}

/** Short names accepted by `goFunc` signatures. */
const SHORT: Record<string, GoType> = {
  any: T.any,
  'interface {}': T.any,
  'interface{}': T.any,
  string: T.string,
  bool: T.bool,
  int: T.int,
  int64: T.int64,
  uint: T.uint,
  uint8: T.uint8,
  byte: T.uint8,
  uint16: T.uint16,
  float64: T.float64,
  error: T.error,
  'reflect.Value': T.value,
};

/** Parses the type spellings used in function signatures: "string", "[]string", "map[string]any", "...int". */
export function parseTypeSpec(spec: string | GoType): GoType {
  if (typeof spec !== 'string') return spec;
  const s = spec.trim();
  const short = SHORT[s];
  if (short) return short;
  if (s.startsWith('[]')) return T.slice(parseTypeSpec(s.slice(2)));
  if (s.startsWith('*')) return T.ptr(parseTypeSpec(s.slice(1)));
  const m = /^map\[([^\]]+)\](.+)$/.exec(s);
  if (m) return T.map(parseTypeSpec(m[1]!), parseTypeSpec(m[2]!));
  throw new Error(`unknown Go type spelling ${JSON.stringify(spec)}`);
}
