/**
 * encoding/json.Unmarshal into interface{} targets, as confd's `json` and `jsonArray` use it:
 * objects become map[string]interface{}, arrays []interface{}, numbers float64, null nil.
 * Syntax errors carry Go's exact scanner messages ("invalid character 'x' looking for
 * beginning of value", "unexpected end of JSON input").
 */
import { GoError } from './errors.js';
import { quote } from './strconv.js';
import { T } from './types.js';
import { GoNumber, withGoType } from './values.js';

const MAX_NESTING_DEPTH = 10000;

function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return `'"'`;
  // Go quotes string(rune(c)): a byte ≥ 0x80 shows as the Latin-1 character of that code.
  const s = quote(String.fromCharCode(c));
  return "'" + s.slice(1, -1) + "'";
}

class ScanError extends Error {}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/**
 * encoding/json checkValid: the scanner's verdict on the whole input, with Go's message.
 * Returns the first number literal that does not fit a float64 (Go reports it while decoding).
 */
export function checkValid(text: string): string | undefined {
  let tooBig: string | undefined;
  const b = Buffer.from(text, 'utf8');
  let i = 0;
  const fail = (c: number, context: string): never => {
    throw new ScanError(`invalid character ${quoteChar(c)} ${context}`);
  };
  const eof = (): never => {
    throw new ScanError('unexpected end of JSON input');
  };
  const peek = (): number => (i < b.length ? b[i]! : -1);
  const skipSpace = (): void => {
    while (i < b.length && isSpace(b[i]!)) i++;
  };
  let depth = 0;

  const literal = (word: string, name: string): void => {
    // first char already matched
    for (let k = 1; k < word.length; k++) {
      // at the end of input Go's scanner is fed one space, so a cut literal reports that space
      const c = peek() < 0 ? 0x20 : peek();
      if (c !== word.charCodeAt(k)) fail(c, `in literal ${name} (expecting '${word[k]}')`);
      i++;
    }
  };

  const string = (): void => {
    // opening quote consumed
    for (;;) {
      const c = peek();
      if (c < 0) eof();
      i++;
      if (c === 0x22) return;
      if (c === 0x5c) {
        const e = peek();
        if (e < 0) eof();
        i++;
        if ('bfnrt\\/"'.includes(String.fromCharCode(e))) continue;
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            const h = peek();
            if (h < 0) eof();
            if (!isHex(h)) fail(h, 'in \\u hexadecimal character escape');
            i++;
          }
          continue;
        }
        fail(e, 'in string escape code');
      }
      if (c < 0x20) fail(c, 'in string literal');
    }
  };

  const number = (first: number): void => {
    const start = i - 1;
    let c = first;
    if (c === 0x2d) {
      c = peek() < 0 ? 0x20 : peek();
      if (!isDigit(c)) fail(c, 'in numeric literal');
      i++;
    }
    if (c !== 0x30) while (isDigit(peek())) i++;
    if (peek() === 0x2e) {
      i++;
      const d = peek() < 0 ? 0x20 : peek();
      if (!isDigit(d)) fail(d, 'after decimal point in numeric literal');
      while (isDigit(peek())) i++;
    }
    if (peek() === 0x65 || peek() === 0x45) {
      i++;
      if (peek() === 0x2b || peek() === 0x2d) i++;
      const d = peek() < 0 ? 0x20 : peek();
      if (!isDigit(d)) fail(d, 'in exponent of numeric literal');
      while (isDigit(peek())) i++;
    }
    if (tooBig === undefined) {
      const lit = b.subarray(start, i).toString('latin1');
      if (!Number.isFinite(Number(lit))) tooBig = lit;
    }
  };

  const value = (): void => {
    skipSpace();
    const c = peek();
    if (c < 0) eof();
    i++;
    switch (c) {
      case 0x7b: {
        if (++depth > MAX_NESTING_DEPTH) fail(c, 'exceeded max depth');
        skipSpace();
        if (peek() === 0x7d) {
          i++;
          depth--;
          return;
        }
        for (;;) {
          skipSpace();
          const k = peek();
          if (k < 0) eof();
          if (k !== 0x22) fail(k, 'looking for beginning of object key string');
          i++;
          string();
          skipSpace();
          const colon = peek();
          if (colon < 0) eof();
          if (colon !== 0x3a) fail(colon, 'after object key');
          i++;
          value();
          skipSpace();
          const sep = peek();
          if (sep < 0) eof();
          i++;
          if (sep === 0x2c) continue;
          if (sep === 0x7d) break;
          fail(sep, 'after object key:value pair');
        }
        depth--;
        return;
      }
      case 0x5b: {
        if (++depth > MAX_NESTING_DEPTH) fail(c, 'exceeded max depth');
        skipSpace();
        if (peek() === 0x5d) {
          i++;
          depth--;
          return;
        }
        for (;;) {
          value();
          skipSpace();
          const sep = peek();
          if (sep < 0) eof();
          i++;
          if (sep === 0x2c) continue;
          if (sep === 0x5d) break;
          fail(sep, 'after array element');
        }
        depth--;
        return;
      }
      case 0x22:
        string();
        return;
      case 0x74:
        literal('true', 'true');
        return;
      case 0x66:
        literal('false', 'false');
        return;
      case 0x6e:
        literal('null', 'null');
        return;
    }
    if (c === 0x2d || isDigit(c)) {
      number(c);
      return;
    }
    fail(c, 'looking for beginning of value');
  };

  value();
  skipSpace();
  if (i < b.length) fail(b[i]!, 'after top-level value');
  return tooBig;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Converts JSON.parse output to the Go interface{} model. */
function toGo(v: unknown): unknown {
  if (v === null) return null;
  if (typeof v === 'number') {
    return Number.isSafeInteger(v) ? new GoNumber(T.float64, v) : v;
  }
  if (typeof v === 'string') return v.replace(LONE_SURROGATE, '\uFFFD');
  if (Array.isArray(v)) return withGoType(v.map(toGo), T.slice(T.any));
  if (typeof v === 'object') {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v)) out[k.replace(LONE_SURROGATE, '\uFFFD')] = toGo(x);
    return out;
  }
  return v;
}

function kindName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

function parse(text: string): { raw: unknown; tooBig: string | undefined } {
  let tooBig: string | undefined;
  try {
    tooBig = checkValid(text);
  } catch (e) {
    if (e instanceof ScanError) throw new GoError(e.message);
    throw e;
  }
  return { raw: JSON.parse(text) as unknown, tooBig };
}

function numberError(lit: string): GoError {
  return new GoError(`json: cannot unmarshal number ${lit} into Go value of type float64`);
}

/** confd's UnmarshalJsonObject: json.Unmarshal into map[string]interface{}. */
export function unmarshalObject(text: string): unknown {
  const { raw, tooBig } = parse(text);
  const mapType = T.map(T.string, T.any);
  if (raw === null) return withGoType(Object.create(null) as object, mapType);
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new GoError(`json: cannot unmarshal ${kindName(raw)} into Go value of type map[string]interface {}`);
  }
  if (tooBig !== undefined) throw numberError(tooBig);
  return withGoType(toGo(raw) as object, mapType);
}

/** confd's UnmarshalJsonArray: json.Unmarshal into []interface{}. */
export function unmarshalArray(text: string): unknown {
  const { raw, tooBig } = parse(text);
  if (raw === null) return withGoType([], T.slice(T.any));
  if (!Array.isArray(raw)) {
    throw new GoError(`json: cannot unmarshal ${kindName(raw)} into Go value of type []interface {}`);
  }
  if (tooBig !== undefined) throw numberError(tooBig);
  return toGo(raw);
}
