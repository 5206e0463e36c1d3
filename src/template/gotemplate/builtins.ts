/** text/template's predefined functions (funcs.go, Go 1.23) over the value model of values.ts. */
import { sprint, sprintf, sprintln, sprintIndirect } from './fmt.js';
import { GoError } from './errors.js';
import { T, assignableTo, canBeNil, isFloatKind, isIntKind, isUintKind, type GoType } from './types.js';
import {
  GoComplex,
  GoNumber,
  floatOf,
  intOf,
  isTrue,
  kindOf,
  lengthOf,
  makeInt,
  mapGet,
  signatureOf,
  structFields,
  structGet,
  typeOf,
  withGoType,
} from './values.js';

/** A nil interface{} (null) behaves like an invalid value once unwrapped. */
export function indirectInterface(v: unknown): unknown {
  return v === null ? undefined : v;
}

export function truth(v: unknown): boolean {
  return isTrue(indirectInterface(v)) ?? false;
}

/** The zero value of a type, as reflect.Zero would produce it. */
export function zeroValue(t: GoType): unknown {
  switch (t.kind) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'slice':
    case 'array':
      return withGoType([], t);
    case 'map':
      return withGoType(Object.create(null) as object, t);
    case 'interface':
      return null;
    case 'reflectValue':
      return undefined;
    case 'func':
    case 'ptr':
      return null;
    default:
      if (isIntKind(t.kind) || isUintKind(t.kind)) return t === T.int ? 0 : new GoNumber(t, 0);
      if (isFloatKind(t.kind)) return new GoNumber(t, 0);
      if (t.kind === 'complex128' || t.kind === 'complex64') return new GoComplex(0, 0);
      return undefined;
  }
}

function isIntLike(t: GoType): boolean {
  return isIntKind(t.kind) || isUintKind(t.kind);
}

/** funcs.go prepareArg: checks a value can be passed as argType (used by index and call). */
function prepareArg(value: unknown, argType: GoType): unknown {
  if (value === undefined || value === null) {
    if (!canBeNil(argType)) throw new GoError(`value is nil; should be of type ${argType.name}`);
    return zeroValue(argType);
  }
  const vt = typeOf(value)!;
  if (assignableTo(vt, argType)) return value;
  if (isIntLike(vt) && isIntLike(argType)) return argType === T.int ? makeInt(intOf(value)) : new GoNumber(argType, intOf(value));
  throw new GoError(`value has type ${vt.name}; should be ${argType.name}`);
}

function indexArg(index: unknown, cap: number): number {
  const t = typeOf(index);
  if (!t) throw new GoError('cannot index slice/array with nil');
  if (!isIntLike(t)) throw new GoError(`cannot index slice/array with type ${t.name}`);
  const x = intOf(index);
  if (x < 0n || x > BigInt(cap)) throw new GoError(`index out of range: ${x}`);
  return Number(x);
}

/** index item i j …: item[i][j]… over slices, strings (bytes) and maps. */
export function index(item: unknown, ...indexes: unknown[]): unknown {
  item = indirectInterface(item);
  if (item === undefined) throw new GoError('index of untyped nil');
  for (let ix of indexes) {
    ix = indirectInterface(ix);
    if (item === null) throw new GoError('index of nil pointer');
    const t = typeOf(item)!;
    switch (t.kind) {
      case 'string': {
        const bytes = Buffer.from(item as string, 'utf8');
        const x = indexArg(ix, bytes.length);
        if (x >= bytes.length) throw new GoError('reflect: string index out of range');
        item = new GoNumber(T.uint8, bytes[x]!);
        break;
      }
      case 'slice':
      case 'array': {
        const arr = item as unknown[];
        const x = indexArg(ix, arr.length);
        if (x >= arr.length) throw new GoError('reflect: slice index out of range');
        const el = arr[x];
        item = el === undefined ? null : el;
        break;
      }
      case 'map': {
        const key = prepareArg(ix, t.key ?? T.string);
        const r = mapGet(item as object, key);
        item = r.found ? r.value : zeroValue(t.elem ?? T.any);
        break;
      }
      default:
        throw new GoError(`can't index item of type ${t.name}`);
    }
  }
  return item;
}

/** slice item i j k: item[i:j:k] over slices and strings (bytes). */
export function slice(item: unknown, ...indexes: unknown[]): unknown {
  item = indirectInterface(item);
  if (item === undefined) throw new GoError('slice of untyped nil');
  if (item === null) throw new GoError('slice of nil pointer');
  if (indexes.length > 3) throw new GoError(`too many slice indexes: ${indexes.length}`);
  const t = typeOf(item)!;
  let cap: number;
  let len: number;
  if (t.kind === 'string') {
    if (indexes.length === 3) throw new GoError('cannot 3-index slice a string');
    len = cap = Buffer.byteLength(item as string, 'utf8');
  } else if (t.kind === 'slice' || t.kind === 'array') {
    len = cap = (item as unknown[]).length;
  } else {
    throw new GoError(`can't slice item of type ${t.name}`);
  }
  const idx = [0, len, 0];
  indexes.forEach((ix, i) => {
    idx[i] = indexArg(indirectInterface(ix), cap);
  });
  if (idx[0]! > idx[1]!) throw new GoError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new GoError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (t.kind === 'string') {
    return Buffer.from(item as string, 'utf8')
      .subarray(idx[0], idx[1])
      .toString('utf8');
  }
  return withGoType((item as unknown[]).slice(idx[0], idx[1]), t);
}

/** len item. */
export function length(item: unknown): number {
  if (item === null) throw new GoError('len of nil pointer');
  if (item === undefined) throw new GoError('reflect: call of reflect.Value.Type on zero Value');
  const n = lengthOf(item);
  if (n === undefined) throw new GoError(`len of type ${typeOf(item)!.name}`);
  return n;
}

export function not(arg: unknown): boolean {
  return !truth(arg);
}

type BasicKind = 'invalid' | 'bool' | 'complex' | 'int' | 'float' | 'string' | 'uint';

function basicKind(v: unknown): BasicKind {
  const t = typeOf(v);
  if (!t) return 'invalid';
  if (t.kind === 'bool') return 'bool';
  if (isIntKind(t.kind)) return 'int';
  if (isUintKind(t.kind)) return 'uint';
  if (isFloatKind(t.kind)) return 'float';
  if (t.kind === 'complex128' || t.kind === 'complex64') return 'complex';
  if (t.kind === 'string') return 'string';
  return 'invalid';
}

function isNilValue(v: unknown): boolean {
  return v === undefined || v === null;
}

function comparable(v: unknown): boolean {
  const t = typeOf(v);
  return t?.comparable ?? true;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ta = typeOf(a);
  const tb = typeOf(b);
  if (!ta || !tb || ta.name !== tb.name) return false;
  const ka = basicKind(a);
  if (ka !== 'invalid') return eqBasic(ka, a, b);
  if (ta.kind === 'struct') {
    const fa = structFields(a as object, ta);
    return fa.every((f) => deepEqual(structGet(a as object, f), structGet(b as object, f)));
  }
  return false;
}

function eqBasic(k: BasicKind, a: unknown, b: unknown): boolean {
  switch (k) {
    case 'bool':
      return a === b;
    case 'complex':
      return (a as GoComplex).re === (b as GoComplex).re && (a as GoComplex).im === (b as GoComplex).im;
    case 'float':
      return floatOf(a) === floatOf(b);
    case 'int':
    case 'uint':
      return intOf(a) === intOf(b);
    case 'string':
      return a === b;
    default:
      return false;
  }
}

/** eq arg1 arg2 …: arg1 == arg2 || arg1 == arg3 … */
export function eq(arg1: unknown, ...arg2: unknown[]): boolean {
  arg1 = indirectInterface(arg1);
  if (arg2.length === 0) throw new GoError('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (let arg of arg2) {
    arg = indirectInterface(arg);
    const k2 = basicKind(arg);
    let result = false;
    if (k1 !== k2) {
      if (k1 === 'int' && k2 === 'uint') result = intOf(arg1) >= 0n && intOf(arg1) === intOf(arg);
      else if (k1 === 'uint' && k2 === 'int') result = intOf(arg) >= 0n && intOf(arg1) === intOf(arg);
      else if (arg1 !== undefined && arg !== undefined) {
        throw new GoError('incompatible types for comparison');
      }
    } else if (k1 !== 'invalid') {
      result = eqBasic(k1, arg1, arg);
    } else {
      const kk1 = kindOf(arg1);
      const kk2 = kindOf(arg);
      if (!(kk1 === kk2 || kk1 === 'invalid' || kk2 === 'invalid')) {
        throw new GoError(
          `non-comparable types ${sprintf('%s', [arg1])}: ${typeOf(arg1)!.name}, ${typeOf(arg)!.name}: ${sprintf('%v', [arg])}`,
        );
      }
      if (isNilValue(arg1) || isNilValue(arg)) {
        result = isNilValue(arg) === isNilValue(arg1);
      } else {
        if (!comparable(arg)) throw new GoError(`non-comparable type ${sprintf('%s', [arg])}: ${typeOf(arg)!.name}`);
        result = deepEqual(arg1, arg);
      }
    }
    if (result) return true;
  }
  return false;
}

export function ne(arg1: unknown, arg2: unknown): boolean {
  return !eq(arg1, arg2);
}

export function lt(arg1: unknown, arg2: unknown): boolean {
  arg1 = indirectInterface(arg1);
  const k1 = basicKind(arg1);
  if (k1 === 'invalid') throw new GoError('invalid type for comparison');
  arg2 = indirectInterface(arg2);
  const k2 = basicKind(arg2);
  if (k2 === 'invalid') throw new GoError('invalid type for comparison');
  if (k1 !== k2) {
    if (k1 === 'int' && k2 === 'uint') return intOf(arg1) < 0n || intOf(arg1) < intOf(arg2);
    if (k1 === 'uint' && k2 === 'int') return intOf(arg2) >= 0n && intOf(arg1) < intOf(arg2);
    throw new GoError('incompatible types for comparison');
  }
  switch (k1) {
    case 'bool':
    case 'complex':
      throw new GoError('invalid type for comparison');
    case 'float':
      return floatOf(arg1) < floatOf(arg2);
    case 'int':
    case 'uint':
      return intOf(arg1) < intOf(arg2);
    case 'string':
      return compareBytes(arg1 as string, arg2 as string) < 0;
  }
  return false;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function le(arg1: unknown, arg2: unknown): boolean {
  return lt(arg1, arg2) || eq(arg1, arg2);
}

export function gt(arg1: unknown, arg2: unknown): boolean {
  return !le(arg1, arg2);
}

export function ge(arg1: unknown, arg2: unknown): boolean {
  return !lt(arg1, arg2);
}

// ---- escaping

export function htmlEscapeString(s: string): string {
  if (!/['"&<>\0]/.test(s)) return s;
  return s.replace(/['"&<>\0]/g, (c) => {
    switch (c) {
      case '"':
        return '&#34;';
      case "'":
        return '&#39;';
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      default:
        return '\uFFFD';
    }
  });
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

export function jsEscapeString(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (c < 0x20) {
      out += '\\u00' + c.toString(16).toUpperCase().padStart(2, '0');
    } else if (c < 0x80) {
      out += ch;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += '\\uFFFD';
    } else if (PRINTABLE.test(ch)) {
      out += ch;
    } else {
      out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    }
  }
  return out;
}

/** net/url.QueryEscape. */
export function urlQueryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** evalArgs: the single string as is, otherwise fmt.Sprint of the printable forms. */
export function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  const printable = args.map((a) => (a === undefined || a === null ? '<no value>' : a));
  if (printable.some((a) => typeOf(a)?.kind === 'ptr')) {
    // printableValue indirects pointers before printing
    let out = '';
    let prevString = false;
    printable.forEach((a, i) => {
      const isString = typeof a === 'string';
      if (i > 0 && !isString && !prevString) out += ' ';
      out += sprintIndirect(a);
      prevString = isString;
    });
    return out;
  }
  return sprint(printable);
}

/** call fn args…: calls a function value with the arguments (the callee name is for messages). */
export function call(name: string, fn: unknown, ...args: unknown[]): unknown {
  fn = indirectInterface(fn);
  if (fn === undefined) throw new GoError('call of nil');
  const t = typeOf(fn)!;
  if (t.kind !== 'func' || typeof fn !== 'function') throw new GoError(`non-function ${name} of type ${t.name}`);
  const sig = signatureOf(fn);
  const numIn = sig.params.length;
  if (sig.variadic) {
    if (args.length < numIn - 1) throw new GoError(`wrong number of args for ${name}: got ${args.length} want at least ${numIn - 1}`);
  } else if (args.length !== numIn) {
    throw new GoError(`wrong number of args for ${name}: got ${args.length} want ${numIn}`);
  }
  const argv = args.map((arg, i) => {
    const argType = !sig.variadic || i < numIn - 1 ? sig.params[i]! : sig.params[numIn - 1]!;
    try {
      return prepareArg(indirectInterface(arg), argType);
    } catch (e) {
      throw new GoError(`arg ${i}: ${(e as Error).message}`);
    }
  });
  return (fn as (...a: unknown[]) => unknown)(...argv);
}

export const print = (...args: unknown[]): string => sprint(args);
export const printf = (format: string, ...args: unknown[]): string => sprintf(format, args);
export const println = (...args: unknown[]): string => sprintln(args);
export const html = (...args: unknown[]): string => htmlEscapeString(evalArgs(args));
export const js = (...args: unknown[]): string => jsEscapeString(evalArgs(args));
export const urlquery = (...args: unknown[]): string => urlQueryEscape(evalArgs(args));
