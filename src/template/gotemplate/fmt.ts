/**
 * Go's fmt.Sprint, Sprintf and Sprintln over the value model of values.ts, following
 * fmt/print.go and fmt/format.go (Go 1.23): verbs, flags, width/precision, argument indexes,
 * %!verb(type=value) for bad verbs, %!(EXTRA …), %!v(MISSING), Stringer handling, sorted maps.
 */
import { canBackquote, formatFloat, quote, quoteRune, runeCount, isPrint, MAX_RUNE, RUNE_ERROR } from './strconv.js';
import { T, isFloatKind, isIntKind, isUintKind, type GoType } from './types.js';
import {
  GoComplex,
  floatOf,
  intOf,
  mapGet,
  mapKeys,
  methodOf,
  structFields,
  structGet,
  typeOf,
} from './values.js';

interface Flags {
  widPresent: boolean;
  precPresent: boolean;
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  prec: number;
}

const newFlags = (): Flags => ({
  widPresent: false,
  precPresent: false,
  minus: false,
  plus: false,
  sharp: false,
  space: false,
  zero: false,
  plusV: false,
  sharpV: false,
  wid: 0,
  prec: 0,
});

const LDIGITS = '0123456789abcdefx';
const UDIGITS = '0123456789ABCDEFX';
/** Go prints real addresses for %p and pointers nested in containers; we print a stable stand-in. */
const FAKE_ADDRESS = 0xc000010000n;

/** Compares strings as Go does: by UTF-8 bytes, i.e. by code points. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function kindRank(v: unknown): number {
  const t = typeOf(v);
  if (!t) return 0;
  if (t.kind === 'bool') return 1;
  if (isIntKind(t.kind) || isUintKind(t.kind)) return 2;
  if (isFloatKind(t.kind)) return 3;
  if (t.kind === 'string') return 4;
  return 5;
}

/** internal/fmtsort ordering of map keys. */
export function compareKeys(a: unknown, b: unknown): number {
  const ra = kindRank(a);
  const rb = kindRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 1:
      return Number(a) - Number(b);
    case 2: {
      const x = intOf(a);
      const y = intOf(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 3: {
      const x = floatOf(a);
      const y = floatOf(b);
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
      if (Number.isNaN(y)) return 1;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 4:
      return compareStrings(a as string, b as string);
    default:
      return 0;
  }
}

export function sortedMapKeys(m: object): unknown[] {
  return mapKeys(m).sort(compareKeys);
}

class Printer {
  buf = '';
  f: Flags = newFlags();
  erroring = false;
  arg: unknown = undefined;
  /** whether `arg` holds a value (undefined/null arg means a nil interface) */
  hasArg = false;

  write(s: string): void {
    this.buf += s;
  }

  writePadding(n: number): void {
    if (n <= 0) return;
    this.buf += (this.f.zero && !this.f.minus ? '0' : ' ').repeat(n);
  }

  pad(s: string): void {
    if (!this.f.widPresent || this.f.wid === 0) {
      this.buf += s;
      return;
    }
    const width = this.f.wid - runeCount(s);
    if (!this.f.minus) {
      this.writePadding(width);
      this.buf += s;
    } else {
      this.buf += s;
      this.writePadding(width);
    }
  }

  fmtBoolean(v: boolean): void {
    this.pad(v ? 'true' : 'false');
  }

  fmtUnicode(u: bigint): void {
    let prec = 4;
    if (this.f.precPresent && this.f.prec > 4) prec = this.f.prec;
    let s = u.toString(16).toUpperCase();
    if (s.length < prec) s = '0'.repeat(prec - s.length) + s;
    s = 'U+' + s;
    if (this.f.sharp && u <= BigInt(MAX_RUNE) && isPrint(Number(u))) {
      s += " '" + String.fromCodePoint(Number(u)) + "'";
    }
    const oldZero = this.f.zero;
    this.f.zero = false;
    this.pad(s);
    this.f.zero = oldZero;
  }

  fmtInteger(v: bigint, base: number, isSigned: boolean, verb: string, digits: string): void {
    const f = this.f;
    const negative = isSigned && v < 0n;
    const u = negative ? -v : v;
    let prec = 0;
    if (f.precPresent) {
      prec = f.prec;
      if (prec === 0 && u === 0n) {
        const oldZero = f.zero;
        f.zero = false;
        this.writePadding(f.wid);
        f.zero = oldZero;
        return;
      }
    } else if (f.zero && !f.minus && f.widPresent) {
      prec = f.wid;
      if (negative || f.plus || f.space) prec--;
    }
    let s = u.toString(base);
    if (digits === UDIGITS) s = s.toUpperCase();
    if (s.length < prec) s = '0'.repeat(prec - s.length) + s;
    if (f.sharp) {
      switch (base) {
        case 2:
          s = '0b' + s;
          break;
        case 8:
          if (s[0] !== '0') s = '0' + s;
          break;
        case 16:
          s = '0' + digits[16] + s;
          break;
      }
    }
    if (verb === 'O') s = '0o' + s;
    if (negative) s = '-' + s;
    else if (f.plus) s = '+' + s;
    else if (f.space) s = ' ' + s;
    const oldZero = f.zero;
    f.zero = false;
    this.pad(s);
    f.zero = oldZero;
  }

  truncateString(s: string): string {
    if (this.f.precPresent) {
      let n = this.f.prec;
      let out = '';
      for (const ch of s) {
        n--;
        if (n < 0) return out;
        out += ch;
      }
    }
    return s;
  }

  fmtS(s: string): void {
    this.pad(this.truncateString(s));
  }

  fmtSbx(bytes: Uint8Array, digits: string): void {
    const f = this.f;
    let length = bytes.length;
    if (f.precPresent && f.prec < length) length = f.prec;
    let width = 2 * length;
    if (width > 0) {
      if (f.space) {
        if (f.sharp) width *= 2;
        width += length - 1;
      } else if (f.sharp) {
        width += 2;
      }
    } else {
      if (f.widPresent) this.writePadding(f.wid);
      return;
    }
    if (f.widPresent && f.wid > width && !f.minus) this.writePadding(f.wid - width);
    let out = '';
    if (f.sharp) out += '0' + digits[16];
    for (let i = 0; i < length; i++) {
      if (f.space && i > 0) {
        out += ' ';
        if (f.sharp) out += '0' + digits[16];
      }
      const c = bytes[i]!;
      out += digits[c >> 4]! + digits[c & 0xf]!;
    }
    this.buf += out;
    if (f.widPresent && f.wid > width && f.minus) this.writePadding(f.wid - width);
  }

  fmtQ(s: string): void {
    s = this.truncateString(s);
    if (this.f.sharp && canBackquote(s)) {
      this.pad('`' + s + '`');
      return;
    }
    this.pad(quote(s, this.f.plus));
  }

  fmtC(c: bigint): void {
    let r = c > BigInt(MAX_RUNE) || c < 0n ? RUNE_ERROR : Number(c);
    if (r >= 0xd800 && r <= 0xdfff) r = RUNE_ERROR;
    this.pad(String.fromCodePoint(r));
  }

  fmtQc(c: bigint): void {
    const r = c > BigInt(MAX_RUNE) || c < 0n ? RUNE_ERROR : Number(c);
    this.pad(quoteRune(r, this.f.plus));
  }

  fmtFloatNum(v: number, verb: string, prec: number): void {
    const f = this.f;
    if (f.precPresent) prec = f.prec;
    let num = formatFloat(v, verb, prec);
    if (num[0] === '-' || num[0] === '+') {
      // keep sign
    } else {
      num = '+' + num;
    }
    if (f.space && num[0] === '+' && !f.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      const oldZero = f.zero;
      f.zero = false;
      if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
      this.pad(num);
      f.zero = oldZero;
      return;
    }
    if (f.sharp && verb !== 'b') {
      let digits = 0;
      if (verb === 'v' || verb === 'g' || verb === 'G' || verb === 'x') {
        digits = prec;
        if (digits === -1) digits = 6;
      }
      let tail = '';
      let hasDecimalPoint = false;
      let sawNonzeroDigit = false;
      let body = num;
      for (let i = 1; i < body.length; i++) {
        const c = body[i]!;
        if (c === '.') {
          hasDecimalPoint = true;
        } else if (c === 'p' || c === 'P') {
          tail = body.slice(i);
          body = body.slice(0, i);
          break;
        } else if ((c === 'e' || c === 'E') && verb !== 'x' && verb !== 'X') {
          tail = body.slice(i);
          body = body.slice(0, i);
          break;
        } else {
          if (c !== '0') sawNonzeroDigit = true;
          if (sawNonzeroDigit) digits--;
        }
      }
      if (!hasDecimalPoint) {
        if (body.length === 2 && body[1] === '0') digits--;
        body += '.';
      }
      while (digits > 0) {
        body += '0';
        digits--;
      }
      num = body + tail;
    }
    if (f.plus || num[0] !== '+') {
      if (f.zero && !f.minus && f.widPresent && f.wid > num.length) {
        this.buf += num[0];
        this.writePadding(f.wid - num.length);
        this.buf += num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  // ---- pp level

  badVerb(verb: string, value: unknown, hasValue: boolean): void {
    this.erroring = true;
    this.buf += '%!' + verb + '(';
    if (hasValue && value !== undefined && value !== null) {
      this.buf += typeOf(value)!.name + '=';
      this.printArg(value, 'v');
    } else {
      this.buf += '<nil>';
    }
    this.buf += ')';
    this.erroring = false;
  }

  fmtBool(v: boolean, verb: string, orig: unknown): void {
    if (verb === 't' || verb === 'v') this.fmtBoolean(v);
    else this.badVerb(verb, orig, true);
  }

  fmt0x64(v: bigint, leading0x: boolean): void {
    const sharp = this.f.sharp;
    this.f.sharp = leading0x;
    this.fmtInteger(v, 16, false, 'v', LDIGITS);
    this.f.sharp = sharp;
  }

  fmtIntegerVerb(v: bigint, isSigned: boolean, verb: string, orig: unknown): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV && !isSigned) this.fmt0x64(v, true);
        else this.fmtInteger(v, 10, isSigned, verb, LDIGITS);
        return;
      case 'd':
        this.fmtInteger(v, 10, isSigned, verb, LDIGITS);
        return;
      case 'b':
        this.fmtInteger(v, 2, isSigned, verb, LDIGITS);
        return;
      case 'o':
      case 'O':
        this.fmtInteger(v, 8, isSigned, verb, LDIGITS);
        return;
      case 'x':
        this.fmtInteger(v, 16, isSigned, verb, LDIGITS);
        return;
      case 'X':
        this.fmtInteger(v, 16, isSigned, verb, UDIGITS);
        return;
      case 'c':
        this.fmtC(v);
        return;
      case 'q':
        this.fmtQc(v);
        return;
      case 'U':
        this.fmtUnicode(v);
        return;
      default:
        this.badVerb(verb, orig, true);
    }
  }

  fmtFloatVerb(v: number, verb: string, orig: unknown): void {
    switch (verb) {
      case 'v':
        this.fmtFloatNum(v, 'g', -1);
        return;
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        this.fmtFloatNum(v, verb, -1);
        return;
      case 'f':
      case 'e':
      case 'E':
        this.fmtFloatNum(v, verb, 6);
        return;
      case 'F':
        this.fmtFloatNum(v, 'f', 6);
        return;
      default:
        this.badVerb(verb, orig, true);
    }
  }

  fmtComplex(v: GoComplex, verb: string): void {
    if ('vbgGxXfFeE'.includes(verb)) {
      const oldPlus = this.f.plus;
      this.buf += '(';
      this.fmtFloatVerb(v.re, verb, v);
      this.f.plus = true;
      this.fmtFloatVerb(v.im, verb, v);
      this.buf += 'i)';
      this.f.plus = oldPlus;
    } else {
      this.badVerb(verb, v, true);
    }
  }

  fmtString(v: string, verb: string, orig: unknown): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV) this.fmtQ(v);
        else this.fmtS(v);
        return;
      case 's':
        this.fmtS(v);
        return;
      case 'x':
        this.fmtSbx(Buffer.from(v, 'utf8'), LDIGITS);
        return;
      case 'X':
        this.fmtSbx(Buffer.from(v, 'utf8'), UDIGITS);
        return;
      case 'q':
        this.fmtQ(v);
        return;
      default:
        this.badVerb(verb, orig, true);
    }
  }

  fmtPointer(value: unknown, verb: string): void {
    const u = value === null || value === undefined ? 0n : FAKE_ADDRESS;
    switch (verb) {
      case 'v':
        if (this.f.sharpV) {
          this.buf += '(' + (typeOf(value)?.name ?? 'interface {}') + ')(';
          if (u === 0n) this.buf += 'nil';
          else this.fmt0x64(u, true);
          this.buf += ')';
        } else if (u === 0n) {
          this.pad('<nil>');
        } else {
          this.fmt0x64(u, !this.f.sharp);
        }
        return;
      case 'p':
        this.fmt0x64(u, !this.f.sharp);
        return;
      case 'b':
      case 'o':
      case 'd':
      case 'x':
      case 'X':
        this.fmtIntegerVerb(u, false, verb, value);
        return;
      default:
        this.badVerb(verb, value, true);
    }
  }

  /** Stringer and error handling; returns whether the value was printed. */
  handleMethods(arg: unknown, verb: string): boolean {
    if (this.erroring) return false;
    if (this.f.sharpV) return false;
    if (!'vsxXq'.includes(verb)) return false;
    if (arg instanceof Error) {
      this.fmtString(arg.message, verb, arg);
      return true;
    }
    const err = methodOf(arg, 'Error');
    if (err && err.sig.params.length === 0) {
      this.fmtString(String(err.fn(arg)), verb, arg);
      return true;
    }
    const str = methodOf(arg, 'String');
    if (str && str.sig.params.length === 0) {
      this.fmtString(String(str.fn(arg)), verb, arg);
      return true;
    }
    return false;
  }

  printArg(arg: unknown, verb: string): void {
    if (arg === undefined || arg === null) {
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb, undefined, false);
      return;
    }
    if (verb === 'T') {
      this.fmtS(typeOf(arg)!.name);
      return;
    }
    if (verb === 'p') {
      const k = typeOf(arg)!.kind;
      if (k === 'map' || k === 'slice' || k === 'func' || k === 'ptr') this.fmtPointer(arg, 'p');
      else this.badVerb('p', arg, true);
      return;
    }
    const t = typeOf(arg)!;
    if (!t.methods || (!Object.hasOwn(t.methods, 'String') && !Object.hasOwn(t.methods, 'Error'))) {
      // fast paths for basic types (no methods to consult)
      switch (typeof arg) {
        case 'boolean':
          this.fmtBool(arg, verb, arg);
          return;
        case 'string':
          this.fmtString(arg, verb, arg);
          return;
        case 'number':
          if (Number.isSafeInteger(arg)) this.fmtIntegerVerb(BigInt(arg), true, verb, arg);
          else this.fmtFloatVerb(arg, verb, arg);
          return;
        case 'bigint':
          this.fmtIntegerVerb(arg, true, verb, arg);
          return;
      }
    }
    if (!this.handleMethods(arg, verb)) this.printValue(arg, verb, 0);
  }

  printValue(value: unknown, verb: string, depth: number, as?: GoType): void {
    if (depth > 0 && value !== undefined && value !== null && !as) {
      if (this.handleMethods(value, verb)) return;
    }
    if (value === undefined) {
      if (depth === 0) this.buf += '<invalid reflect.Value>';
      else if (verb === 'v') this.buf += '<nil>';
      else this.badVerb(verb, undefined, false);
      return;
    }
    if (value === null) {
      // a nil interface{} element
      if (this.f.sharpV) this.buf += 'interface {}(nil)';
      else this.buf += '<nil>';
      return;
    }
    const t = as ?? typeOf(value)!;
    const k = t.kind;
    if (k === 'bool') return this.fmtBool(value as boolean, verb, value);
    if (isIntKind(k)) return this.fmtIntegerVerb(intOf(value), true, verb, value);
    if (isUintKind(k)) return this.fmtIntegerVerb(intOf(value), false, verb, value);
    if (isFloatKind(k)) return this.fmtFloatVerb(floatOf(value), verb, value);
    if (k === 'complex128' || k === 'complex64') return this.fmtComplex(value as GoComplex, verb);
    if (k === 'string') return this.fmtString(value as string, verb, value);
    switch (k) {
      case 'map': {
        const m = value as object;
        if (this.f.sharpV) this.buf += t.name + '{';
        else this.buf += 'map[';
        const keys = sortedMapKeys(m);
        keys.forEach((key, i) => {
          if (i > 0) this.buf += this.f.sharpV ? ', ' : ' ';
          this.printValue(key, verb, depth + 1);
          this.buf += ':';
          this.printValue(mapGet(m, key).value, verb, depth + 1);
        });
        this.buf += this.f.sharpV ? '}' : ']';
        return;
      }
      case 'struct': {
        const obj = value as object;
        if (this.f.sharpV) this.buf += t.name;
        this.buf += '{';
        structFields(obj, t).forEach((name, i) => {
          if (i > 0) this.buf += this.f.sharpV ? ', ' : ' ';
          if (this.f.plusV || this.f.sharpV) this.buf += name + ':';
          this.printValue(structGet(obj, name) ?? null, verb, depth + 1);
        });
        this.buf += '}';
        return;
      }
      case 'slice':
      case 'array': {
        const arr = value as unknown[];
        const elem = t.elem ?? T.any;
        if ((verb === 's' || verb === 'q' || verb === 'x' || verb === 'X') && elem.kind === 'uint8') {
          const bytes = Uint8Array.from(arr.map((b) => Number(intOf(b))));
          if (verb === 's') this.fmtS(Buffer.from(bytes).toString('utf8'));
          else if (verb === 'q') this.fmtQ(Buffer.from(bytes).toString('utf8'));
          else this.fmtSbx(bytes, verb === 'x' ? LDIGITS : UDIGITS);
          return;
        }
        if (this.f.sharpV) {
          this.buf += t.name + '{';
          arr.forEach((el, i) => {
            if (i > 0) this.buf += ', ';
            this.printValue(el ?? null, verb, depth + 1);
          });
          this.buf += '}';
        } else {
          this.buf += '[';
          arr.forEach((el, i) => {
            if (i > 0) this.buf += ' ';
            this.printValue(el ?? null, verb, depth + 1);
          });
          this.buf += ']';
        }
        return;
      }
      case 'ptr': {
        const ek = t.elem?.kind;
        if (depth === 0 && (ek === 'array' || ek === 'slice' || ek === 'struct' || ek === 'map')) {
          this.buf += '&';
          this.printValue(value, verb, depth + 1, t.elem);
          return;
        }
        this.fmtPointer(value, verb);
        return;
      }
      case 'func':
        this.fmtPointer(value, verb);
        return;
      default:
        this.buf += '?';
    }
  }
}

function parseNum(s: string, start: number, end: number): { num: number; ok: boolean; next: number } {
  if (start >= end) return { num: 0, ok: false, next: end };
  let num = 0;
  let ok = false;
  let i = start;
  for (; i < end && s[i]! >= '0' && s[i]! <= '9'; i++) {
    if (num > 1e6) return { num: 0, ok: false, next: end }; // tooLarge
    num = num * 10 + (s.charCodeAt(i) - 48);
    ok = true;
  }
  return { num, ok, next: i };
}

function intFromArg(a: unknown[], argNum: number): { num: number; isInt: boolean; argNum: number } {
  let num = 0;
  let isInt = false;
  let newArgNum = argNum;
  if (argNum < a.length) {
    const v = a[argNum];
    const t = typeOf(v);
    if (t && (isIntKind(t.kind) || isUintKind(t.kind))) {
      const n = intOf(v);
      if (n >= -(1n << 63n) && n < 1n << 63n) {
        num = Number(n);
        isInt = true;
      }
    }
    newArgNum = argNum + 1;
    if (num > 1e6 || num < -1e6) {
      num = 0;
      isInt = false;
    }
  }
  return { num, isInt, argNum: newArgNum };
}

function parseArgNumber(format: string): { index: number; wid: number; ok: boolean } {
  if (format.length < 3) return { index: 0, wid: 1, ok: false };
  for (let i = 1; i < format.length; i++) {
    if (format[i] === ']') {
      const { num, ok, next } = parseNum(format, 1, i);
      if (!ok || next !== i) return { index: 0, wid: i + 1, ok: false };
      return { index: num - 1, wid: i + 1, ok: true };
    }
  }
  return { index: 0, wid: 1, ok: false };
}

/** fmt.Sprintf. */
export function sprintf(format: string, a: readonly unknown[]): string {
  const p = new Printer();
  const end = format.length;
  let argNum = 0;
  let afterIndex = false;
  let reordered = false;
  let goodArgNum = true;

  const argNumber = (argN: number, i: number): { argNum: number; i: number; found: boolean } => {
    if (format.length <= i || format[i] !== '[') return { argNum: argN, i, found: false };
    reordered = true;
    const { index, wid, ok } = parseArgNumber(format.slice(i));
    if (ok && index >= 0 && index < a.length) return { argNum: index, i: i + wid, found: true };
    goodArgNum = false;
    return { argNum: argN, i: i + wid, found: ok };
  };

  let i = 0;
  formatLoop: while (i < end) {
    goodArgNum = true;
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) p.buf += format.slice(lasti, i);
    if (i >= end) break;
    i++;
    p.f = newFlags();
    simple: for (; i < end; i++) {
      const c = format[i]!;
      switch (c) {
        case '#':
          p.f.sharp = true;
          break;
        case '0':
          p.f.zero = true;
          break;
        case '+':
          p.f.plus = true;
          break;
        case '-':
          p.f.minus = true;
          break;
        case ' ':
          p.f.space = true;
          break;
        default:
          if (c >= 'a' && c <= 'z' && argNum < a.length) {
            if (c === 'v') {
              p.f.sharpV = p.f.sharp;
              p.f.sharp = false;
              p.f.plusV = p.f.plus;
              p.f.plus = false;
            }
            p.printArg(a[argNum], c);
            argNum++;
            i++;
            continue formatLoop;
          }
          break simple;
      }
    }
    let r = argNumber(argNum, i);
    argNum = r.argNum;
    i = r.i;
    afterIndex = r.found;
    if (i < end && format[i] === '*') {
      i++;
      const w = intFromArg(a as unknown[], argNum);
      p.f.wid = w.num;
      p.f.widPresent = w.isInt;
      argNum = w.argNum;
      if (!p.f.widPresent) p.buf += '%!(BADWIDTH)';
      if (p.f.wid < 0) {
        p.f.wid = -p.f.wid;
        p.f.minus = true;
      }
      afterIndex = false;
    } else {
      const n = parseNum(format, i, end);
      p.f.wid = n.num;
      p.f.widPresent = n.ok;
      i = n.next;
      if (afterIndex && p.f.widPresent) goodArgNum = false;
    }
    if (i + 1 < end && format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      r = argNumber(argNum, i);
      argNum = r.argNum;
      i = r.i;
      afterIndex = r.found;
      if (i < end && format[i] === '*') {
        i++;
        const w = intFromArg(a as unknown[], argNum);
        p.f.prec = w.num;
        p.f.precPresent = w.isInt;
        argNum = w.argNum;
        if (p.f.prec < 0) {
          p.f.prec = 0;
          p.f.precPresent = false;
        }
        if (!p.f.precPresent) p.buf += '%!(BADPREC)';
        afterIndex = false;
      } else {
        const n = parseNum(format, i, end);
        p.f.prec = n.num;
        p.f.precPresent = n.ok;
        i = n.next;
        if (!p.f.precPresent) {
          p.f.prec = 0;
          p.f.precPresent = true;
        }
      }
    }
    if (!afterIndex) {
      r = argNumber(argNum, i);
      argNum = r.argNum;
      i = r.i;
      afterIndex = r.found;
    }
    if (i >= end) {
      p.buf += '%!(NOVERB)';
      break;
    }
    const cp = format.codePointAt(i)!;
    const verb = String.fromCodePoint(cp);
    i += verb.length;
    if (verb === '%') {
      p.buf += '%';
    } else if (!goodArgNum) {
      p.buf += '%!' + verb + '(BADINDEX)';
    } else if (argNum >= a.length) {
      p.buf += '%!' + verb + '(MISSING)';
    } else {
      if (verb === 'v') {
        p.f.sharpV = p.f.sharp;
        p.f.sharp = false;
        p.f.plusV = p.f.plus;
        p.f.plus = false;
      }
      p.printArg(a[argNum], verb);
      argNum++;
    }
  }
  if (!reordered && argNum < a.length) {
    p.f = newFlags();
    p.buf += '%!(EXTRA ';
    a.slice(argNum).forEach((arg, idx) => {
      if (idx > 0) p.buf += ', ';
      if (arg === undefined || arg === null) p.buf += '<nil>';
      else {
        p.buf += typeOf(arg)!.name + '=';
        p.printArg(arg, 'v');
      }
    });
    p.buf += ')';
  }
  return p.buf;
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(a: readonly unknown[]): string {
  const p = new Printer();
  let prevString = false;
  a.forEach((arg, n) => {
    const isString = typeOf(arg)?.kind === 'string';
    if (n > 0 && !isString && !prevString) p.buf += ' ';
    p.f = newFlags();
    p.printArg(arg, 'v');
    prevString = isString;
  });
  return p.buf;
}

/** fmt.Sprintln: spaces between all operands and a trailing newline. */
export function sprintln(a: readonly unknown[]): string {
  const p = new Printer();
  a.forEach((arg, n) => {
    if (n > 0) p.buf += ' ';
    p.f = newFlags();
    p.printArg(arg, 'v');
  });
  return p.buf + '\n';
}


/**
 * What text/template writes for `{{x}}`: fmt.Print of the value, with a pointer first
 * dereferenced (printableValue), so a *struct prints as {…} rather than &{…}.
 */
export function sprintIndirect(v: unknown): string {
  const t = typeOf(v);
  if (t?.kind === 'ptr' && t.elem) {
    const p = new Printer();
    if (!p.handleMethods(v, 'v')) p.printValue(v, 'v', 0, t.elem);
    return p.buf;
  }
  return sprint([v]);
}
