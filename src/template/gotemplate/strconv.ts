/**
 * The parts of Go's strconv and unicode/utf8 that text/template and fmt rely on: quoting,
 * unquoting Go literals, parsing Go number literals, and formatting floats exactly like
 * strconv.FormatFloat (shortest round-trip digits, or exact decimal rounding half-to-even).
 */

export const RUNE_ERROR = 0xfffd;
export const MAX_RUNE = 0x10ffff;

/** Code points of a string; a lone surrogate counts as one RuneError (Go never has them). */
export function runes(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    out.push(cp >= 0xd800 && cp <= 0xdfff ? RUNE_ERROR : cp);
  }
  return out;
}

export function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** UTF-8 byte length of one code point. */
export function runeLen(r: number): number {
  if (r < 0x80) return 1;
  if (r < 0x800) return 2;
  if (r < 0x10000) return 3;
  return 4;
}

const PRINT_RE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const GRAPHIC_SPACE_RE = /^\p{Zs}$/u;

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(r: number): boolean {
  if (r < 0x20) return false;
  if (r < 0x7f) return true;
  if (r === 0x7f) return false;
  if (r > MAX_RUNE || (r >= 0xd800 && r <= 0xdfff)) return false;
  return PRINT_RE.test(String.fromCodePoint(r));
}

/** unicode.IsGraphic: IsPrint plus the other Unicode space separators. */
export function isGraphic(r: number): boolean {
  if (isPrint(r)) return true;
  if (r > MAX_RUNE || (r >= 0xd800 && r <= 0xdfff)) return false;
  return GRAPHIC_SPACE_RE.test(String.fromCodePoint(r));
}

function hex(n: number, width: number, upper = false): string {
  const s = n.toString(16).padStart(width, '0');
  return upper ? s.toUpperCase() : s;
}

function appendEscapedRune(out: string[], r: number, quote: number, asciiOnly: boolean, graphicOnly: boolean): void {
  if (r === quote || r === 0x5c) {
    out.push('\\', String.fromCodePoint(r));
    return;
  }
  if (asciiOnly) {
    if (r < 0x80 && isPrint(r)) {
      out.push(String.fromCodePoint(r));
      return;
    }
  } else if (isPrint(r) || (graphicOnly && isGraphic(r))) {
    out.push(String.fromCodePoint(r));
    return;
  }
  switch (r) {
    case 0x07:
      out.push('\\a');
      return;
    case 0x08:
      out.push('\\b');
      return;
    case 0x0c:
      out.push('\\f');
      return;
    case 0x0a:
      out.push('\\n');
      return;
    case 0x0d:
      out.push('\\r');
      return;
    case 0x09:
      out.push('\\t');
      return;
    case 0x0b:
      out.push('\\v');
      return;
  }
  if (r < 0x20 || r === 0x7f) out.push('\\x', hex(r, 2));
  else if (r > MAX_RUNE) out.push('\\ufffd');
  else if (r < 0x10000) out.push('\\u', hex(r, 4));
  else out.push('\\U', hex(r, 8));
}

/** strconv.Quote / QuoteToASCII. */
export function quote(s: string, asciiOnly = false): string {
  const out: string[] = ['"'];
  for (const r of runes(s)) appendEscapedRune(out, r, 0x22, asciiOnly, false);
  out.push('"');
  return out.join('');
}

/** strconv.QuoteRune / QuoteRuneToASCII. */
export function quoteRune(r: number, asciiOnly = false): string {
  if (r > MAX_RUNE || (r >= 0xd800 && r <= 0xdfff) || r < 0) r = RUNE_ERROR;
  const out: string[] = ["'"];
  appendEscapedRune(out, r, 0x27, asciiOnly, false);
  out.push("'");
  return out.join('');
}

/** strconv.CanBackquote. */
export function canBackquote(s: string): boolean {
  for (const r of runes(s)) {
    if (r === RUNE_ERROR) return false;
    if ((r < 0x20 && r !== 0x09) || r === 0x60 || r === 0x7f || r === 0xfeff) return false;
  }
  return true;
}

export class SyntaxError extends Error {
  constructor() {
    super('invalid syntax');
  }
}

function unhex(c: string): number {
  const n = parseInt(c, 16);
  return Number.isNaN(n) || !/^[0-9a-fA-F]$/.test(c) ? -1 : n;
}

/**
 * strconv.UnquoteChar: decodes the first character or escape of `s` inside a literal quoted
 * with `q`. Returns the value (a code point, or a byte for \x and octal escapes), whether it
 * is a raw byte, and the tail.
 */
export function unquoteChar(s: string, q: string): { value: number; byte: boolean; tail: string } {
  const c = s[0];
  if (c === undefined) throw new SyntaxError();
  if (c === q && (q === "'" || q === '"')) throw new SyntaxError();
  if (c !== '\\') {
    const cp = s.codePointAt(0)!;
    const w = cp > 0xffff ? 2 : 1;
    return { value: cp, byte: false, tail: s.slice(w) };
  }
  if (s.length <= 1) throw new SyntaxError();
  const e = s[1]!;
  let tail = s.slice(2);
  switch (e) {
    case 'a':
      return { value: 7, byte: false, tail };
    case 'b':
      return { value: 8, byte: false, tail };
    case 'f':
      return { value: 12, byte: false, tail };
    case 'n':
      return { value: 10, byte: false, tail };
    case 'r':
      return { value: 13, byte: false, tail };
    case 't':
      return { value: 9, byte: false, tail };
    case 'v':
      return { value: 11, byte: false, tail };
    case 'x':
    case 'u':
    case 'U': {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      if (tail.length < n) throw new SyntaxError();
      let v = 0;
      for (let j = 0; j < n; j++) {
        const x = unhex(tail[j]!);
        if (x < 0) throw new SyntaxError();
        v = v * 16 + x;
      }
      tail = tail.slice(n);
      if (e === 'x') return { value: v, byte: true, tail };
      if (v > MAX_RUNE || (v >= 0xd800 && v <= 0xdfff)) throw new SyntaxError();
      return { value: v, byte: false, tail };
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      let v = e.charCodeAt(0) - 48;
      if (tail.length < 2) throw new SyntaxError();
      for (let j = 0; j < 2; j++) {
        const x = tail.charCodeAt(j) - 48;
        if (x < 0 || x > 7) throw new SyntaxError();
        v = v * 8 + x;
      }
      tail = tail.slice(2);
      if (v > 255) throw new SyntaxError();
      return { value: v, byte: true, tail };
    }
    case '\\':
      return { value: 0x5c, byte: false, tail };
    case "'":
    case '"':
      if (e !== q) throw new SyntaxError();
      return { value: e.charCodeAt(0), byte: false, tail };
    default:
      throw new SyntaxError();
  }
}

function encodeUtf8(cp: number, out: number[]): void {
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}

/**
 * strconv.Unquote for "…" and `…` literals. Bytes from \x and octal escapes are decoded as
 * UTF-8 together with the rest (invalid sequences become U+FFFD: JS strings cannot hold raw bytes).
 */
export function unquote(lit: string): string {
  const n = lit.length;
  if (n < 2) throw new SyntaxError();
  const q = lit[0]!;
  if (q !== lit[n - 1]) throw new SyntaxError();
  const body = lit.slice(1, n - 1);
  if (q === '`') {
    if (body.includes('`')) throw new SyntaxError();
    return body.includes('\r') ? body.replaceAll('\r', '') : body;
  }
  if (q !== '"' && q !== "'") throw new SyntaxError();
  if (body.includes('\n')) throw new SyntaxError();
  if (!body.includes('\\') && !body.includes(q)) {
    if (q === '"') return body;
    if (q === "'" && runeCount(body) === 1) return body;
  }
  const bytes: number[] = [];
  let rest = body;
  while (rest.length > 0) {
    const { value, byte, tail } = unquoteChar(rest, q);
    rest = tail;
    if (byte) bytes.push(value);
    else encodeUtf8(value, bytes);
    if (q === "'" && rest.length !== 0) throw new SyntaxError();
  }
  return Buffer.from(bytes).toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// Number literals (strconv.ParseInt/ParseUint/ParseFloat with base 0, as text/template uses them)

/** strconv's underscoreOK: underscores only between digits (or after a base prefix). */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hexPrefix = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1]!)) {
    i = 2;
    saw = '0';
    hexPrefix = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hexPrefix && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

function parseUintBody(s: string): bigint | undefined {
  // s has no sign. Base 0 rules.
  if (s === '') return undefined;
  let base = 10;
  let digits = s;
  let allowUnderscore = true;
  if (s[0] === '0') {
    if (s.length >= 3 && (s[1] === 'x' || s[1] === 'X')) {
      base = 16;
      digits = s.slice(2);
    } else if (s.length >= 3 && (s[1] === 'o' || s[1] === 'O')) {
      base = 8;
      digits = s.slice(2);
    } else if (s.length >= 3 && (s[1] === 'b' || s[1] === 'B')) {
      base = 2;
      digits = s.slice(2);
    } else {
      base = 8;
      digits = s.slice(1);
      if (digits === '') return 0n;
    }
  }
  let n = 0n;
  const b = BigInt(base);
  let sawUnderscore = false;
  for (const c of digits) {
    if (c === '_' && allowUnderscore) {
      sawUnderscore = true;
      continue;
    }
    const d = parseInt(c, 36);
    if (Number.isNaN(d) || d >= base) return undefined;
    n = n * b + BigInt(d);
    if (n > UINT64_MAX) return undefined;
  }
  if (sawUnderscore && !underscoreOK(s)) return undefined;
  allowUnderscore = false;
  return n;
}

/** strconv.ParseUint(s, 0, 64); undefined on syntax or range error. */
export function parseUint64(s: string): bigint | undefined {
  if (s.startsWith('+') || s.startsWith('-')) return undefined;
  return parseUintBody(s);
}

/** strconv.ParseInt(s, 0, 64); undefined on syntax or range error. */
export function parseInt64(s: string): bigint | undefined {
  let neg = false;
  let body = s;
  if (s.startsWith('+') || s.startsWith('-')) {
    neg = s[0] === '-';
    body = s.slice(1);
  }
  const u = parseUintBody(body);
  if (u === undefined) return undefined;
  const v = neg ? -u : u;
  if (v > INT64_MAX || v < INT64_MIN) return undefined;
  return v;
}

const DEC_FLOAT_RE = /^[+-]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?$/;
const HEX_FLOAT_RE = /^([+-]?)0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?\d[\d_]*)$/;

/** strconv.ParseFloat(s, 64); undefined on syntax error or overflow (as Go's ErrRange). */
export function parseFloat64(s: string): number | undefined {
  const lower = s.toLowerCase().replace(/^[+-]/, '');
  if (lower === 'inf' || lower === 'infinity' || lower === 'nan') {
    if (lower === 'nan') return s[0] === '+' || s[0] === '-' ? undefined : NaN;
    return s[0] === '-' ? -Infinity : Infinity;
  }
  if (s.includes('_') && !underscoreOK(s)) return undefined;
  if (DEC_FLOAT_RE.test(s)) {
    const v = Number(s.replaceAll('_', ''));
    if (!Number.isFinite(v)) return undefined;
    return v;
  }
  const m = HEX_FLOAT_RE.exec(s);
  if (m) {
    const intPart = (m[2] ?? '').replaceAll('_', '');
    const frac = (m[3] ?? '').replaceAll('_', '');
    if (intPart === '' && frac === '') return undefined;
    const mant = BigInt('0x' + (intPart + frac || '0'));
    const exp = Number(m[4]!.replaceAll('_', '')) - 4 * frac.length;
    let v = Number(mant) * 2 ** exp;
    if (!Number.isFinite(v) || (v === 0 && mant !== 0n && exp > 0)) {
      // fall back to exact scaling
      v = exp >= 0 ? Number(mant << BigInt(exp)) : Number(mant) / 2 ** -exp;
    }
    if (!Number.isFinite(v)) return undefined;
    return m[1] === '-' ? -v : v;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Float formatting (strconv.FormatFloat, 64-bit)

interface Decimal {
  /** significant digits without leading/trailing zeros ('' for zero) */
  d: string;
  /** decimal point position: value = 0.d × 10^dp */
  dp: number;
}

/** Exact decimal expansion of a finite, non-negative double. */
function exactDecimal(v: number): Decimal {
  if (v === 0) return { d: '', dp: 0 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, v);
  const bits = buf.getBigUint64(0);
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  exp -= 1075; // value = mant * 2^exp
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString();
    dp = digits.length + exp; // divide by 10^-exp
  }
  // strip leading zeros (none for positive mant) and trailing zeros
  let end = digits.length;
  while (end > 0 && digits[end - 1] === '0') end--;
  return { d: digits.slice(0, end), dp };
}

/** Shortest decimal that round-trips (what JS and Go both produce). */
function shortestDecimal(v: number): Decimal {
  if (v === 0) return { d: '', dp: 0 };
  const [mant, e] = v.toExponential().split('e') as [string, string];
  const d = mant.replace('.', '').replace(/0+$/, '');
  return { d, dp: Number(e) + 1 };
}

/** Rounds to nd significant digits, half to even on exact ties (Go's decimal.Round). */
function roundDecimal(x: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= x.d.length) return x;
  const next = x.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (next === 5 && nd + 1 === x.d.length) {
    up = nd > 0 && (x.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  } else {
    up = next >= 5;
  }
  if (!up) {
    let end = nd;
    while (end > 0 && x.d[end - 1] === '0') end--;
    return { d: x.d.slice(0, end), dp: x.dp };
  }
  const digits = x.d.slice(0, nd).split('').map((c) => c.charCodeAt(0) - 48);
  let i = nd - 1;
  while (i >= 0 && digits[i] === 9) i--;
  if (i < 0) return { d: '1', dp: x.dp + 1 };
  digits[i]! += 1;
  return { d: digits.slice(0, i + 1).join(''), dp: x.dp };
}

function fmtE(neg: boolean, d: Decimal, prec: number, fmt: string): string {
  let s = neg ? '-' : '';
  s += d.d.length ? d.d[0] : '0';
  if (prec > 0) {
    s += '.';
    let i = 1;
    const m = Math.min(d.d.length, prec + 1);
    if (i < m) {
      s += d.d.slice(i, m);
      i = m;
    }
    for (; i <= prec; i++) s += '0';
  }
  s += fmt;
  let exp = d.d.length === 0 ? 0 : d.dp - 1;
  let sign = '+';
  if (exp < 0) {
    sign = '-';
    exp = -exp;
  }
  s += sign + (exp < 10 ? '0' + exp : String(exp));
  return s;
}

function fmtF(neg: boolean, d: Decimal, prec: number): string {
  let s = neg ? '-' : '';
  if (d.dp > 0) {
    const m = Math.min(d.d.length, d.dp);
    s += d.d.slice(0, m) + '0'.repeat(d.dp - m);
  } else {
    s += '0';
  }
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = d.dp + i - 1;
      s += j >= 0 && j < d.d.length ? d.d[j] : '0';
    }
  }
  return s;
}

function floatBits(v: number): { neg: boolean; mant: bigint; exp: number; expBits: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, v);
  const bits = buf.getBigUint64(0);
  const neg = bits >> 63n === 1n;
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let exp = expBits;
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  exp -= 1023;
  return { neg, mant, exp, expBits };
}

function fmtB(v: number): string {
  const { neg, mant, exp } = floatBits(v);
  const e = exp - 52;
  return `${neg ? '-' : ''}${mant}p${e >= 0 ? '+' : '-'}${Math.abs(e)}`;
}

function fmtX(v: number, prec: number, fmt: 'x' | 'X'): string {
  let { neg, mant, exp } = floatBits(v);
  if (mant === 0n) exp = 0;
  const ONE60 = 1n << 60n;
  mant <<= 60n - 52n;
  while (mant !== 0n && (mant & ONE60) === 0n) {
    mant <<= 1n;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & (ONE60 - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant <<= 60n - shift;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const digits = fmt === 'X' ? '0123456789ABCDEF' : '0123456789abcdef';
  let s = (neg ? '-' : '') + '0' + fmt + ((mant >> 60n) & 1n).toString();
  mant = (mant << 4n) & ((1n << 64n) - 1n);
  if (prec < 0 && mant !== 0n) {
    s += '.';
    while (mant !== 0n) {
      s += digits[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & ((1n << 64n) - 1n);
    }
  } else if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) {
      s += digits[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & ((1n << 64n) - 1n);
    }
  }
  s += fmt === 'X' ? 'P' : 'p';
  let sign = '+';
  if (exp < 0) {
    sign = '-';
    exp = -exp;
  }
  s += sign + (exp < 10 ? '0' + exp : String(exp));
  return s;
}

/** strconv.FormatFloat(v, fmt, prec, 64) for fmt in b e E f g G x X. */
export function formatFloat(v: number, fmt: string, prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (fmt === 'b') return fmtB(v);
  if (fmt === 'x' || fmt === 'X') return fmtX(v, prec, fmt);
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  const shortest = prec < 0;
  let digs: Decimal;
  if (shortest) {
    digs = shortestDecimal(a);
    switch (fmt) {
      case 'e':
      case 'E':
        prec = Math.max(digs.d.length - 1, 0);
        break;
      case 'f':
        prec = Math.max(digs.d.length - digs.dp, 0);
        break;
      case 'g':
      case 'G':
        prec = digs.d.length;
        break;
    }
  } else {
    const exact = exactDecimal(a);
    if (fmt === 'f') {
      digs = roundDecimal(exact, exact.dp + prec);
      if (exact.dp + prec < 0) digs = { d: '', dp: 0 };
    } else {
      let digits = prec;
      if (fmt === 'e' || fmt === 'E') digits++;
      else if (fmt === 'g' || fmt === 'G') {
        if (prec === 0) prec = 1;
        digits = prec;
      } else digits = 1;
      digs = roundDecimal(exact, digits);
    }
  }
  switch (fmt) {
    case 'e':
    case 'E':
      return fmtE(neg, digs, prec, fmt);
    case 'f':
      return fmtF(neg, digs, prec);
    case 'g':
    case 'G': {
      let eprec = prec;
      if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
      if (shortest) eprec = 6;
      const exp = digs.dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (prec > digs.d.length) prec = digs.d.length;
        return fmtE(neg, digs, prec - 1, fmt === 'g' ? 'e' : 'E');
      }
      if (prec > digs.dp) prec = digs.d.length;
      return fmtF(neg, digs, Math.max(prec - digs.dp, 0));
    }
    default:
      return '%' + fmt;
  }
}
