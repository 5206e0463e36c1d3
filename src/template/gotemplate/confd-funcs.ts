/**
 * confd's template function map, with confd's exact semantics (kelseyhightower/confd
 * resource/template/template_funcs.go newFuncMap + memkv's FuncMap, added in that order so the
 * store functions win): every function has its Go signature, so argument checking, errors and
 * printing follow Go's text/template.
 *
 * Deliberate differences (see fixtures/confd/README.md):
 *  - datetime reads an injected clock and zone (default: the system clock in UTC) and its
 *    String() has no " m=+…" monotonic suffix;
 *  - DNS functions use an injectable resolver (default: synchronous child-process lookups);
 *  - strings are JS strings: bytes that are not valid UTF-8 (from base64Decode) become U+FFFD.
 */
import { statSync } from 'node:fs';
import { goIPString, syncDnsResolver, type DnsResolver } from './dns.js';
import { GoError } from './errors.js';
import { GO_LOWER_EXCEPTIONS, GO_UPPER_EXCEPTIONS } from './casemap.js';
import { compareStrings } from './fmt.js';
import { unmarshalArray, unmarshalObject } from './gojson.js';
import { pathBase, pathDir } from './gopath.js';
import { goSort } from './gosort.js';
import { GoTime, TIME_TYPE, UTC, type GoZone } from './gotime.js';
import { KVPAIR_SLICE_TYPE, KVPAIR_TYPE, KVPAIRS_TYPE, MemKv, stringSlice, type KVPair, type KvSource } from './memkv.js';
import { quote } from './strconv.js';
import type { FuncMap } from './template.js';
import { T } from './types.js';
import { GO_TYPE, GoNumber, goFunc, intOf, makeInt, typeOf, withGoType } from './values.js';

export interface ConfdFuncOptions {
  /** Environment for getenv (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Clock for datetime (default: new Date()); a GoTime carries nanoseconds and its own zone. */
  now?: () => Date | GoTime;
  /** Zone datetime reports (default: UTC). */
  zone?: GoZone;
  /** DNS answers for lookupIP/lookupIPV4/lookupIPV6/lookupSRV (default: syncDnsResolver()). */
  resolver?: DnsResolver;
  /** fileExists check (default: Go's os.Stat semantics — false only when the path does not exist). */
  fileExists?: (path: string) => boolean;
}

/** net.SRV, returned as []*net.SRV by lookupSRV. */
export const SRV_TYPE = T.struct('net.SRV', ['Target', 'Port', 'Priority', 'Weight']);
const SRV_PTR_TYPE = T.ptr(SRV_TYPE);

export class Srv {
  static readonly [GO_TYPE] = SRV_PTR_TYPE;
  constructor(
    public Target: string,
    public Port: GoNumber,
    public Priority: GoNumber,
    public Weight: GoNumber,
  ) {}
}

const INT_SLICE = T.slice(T.int);

/** Go int (int64) arithmetic with wrap-around. */
function intOp(op: (a: bigint, b: bigint) => bigint): (a: unknown, b: unknown) => unknown {
  return (a, b) => makeInt(BigInt.asIntN(64, op(intOf(a), intOf(b))));
}

function divide(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new GoError('runtime error: integer divide by zero');
  return a / b;
}

function modulo(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new GoError('runtime error: integer divide by zero');
  return a % b;
}

/** strings.Split. */
export function goSplit(s: string, sep: string): string[] {
  if (sep === '') return Array.from(s);
  return s.split(sep);
}

/** strings.Replace(s, old, new, n). */
export function goReplace(s: string, old: string, neu: string, n: number): string {
  if (old === neu || n === 0) return s;
  const m = old === '' ? Array.from(s).length + 1 : s.split(old).length - 1;
  if (m === 0) return s;
  if (n < 0 || m < n) n = m;
  let out = '';
  let start = 0;
  if (old === '') {
    const chars = Array.from(s);
    for (let i = 0; i < chars.length + 1; i++) {
      if (i < n) out += neu;
      if (i < chars.length) out += chars[i];
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const j = s.indexOf(old, start);
    out += s.slice(start, j) + neu;
    start = j + old.length;
  }
  return out + s.slice(start);
}

/** unicode simple case mapping, rune by rune (strings.ToUpper/ToLower): no length-changing special casing. */
function mapCase(s: string, upper: boolean): string {
  const exceptions = upper ? GO_UPPER_EXCEPTIONS : GO_LOWER_EXCEPTIONS;
  let out = '';
  for (const ch of s) {
    const special = exceptions.get(ch.codePointAt(0)!);
    if (special !== undefined) {
      out += String.fromCodePoint(special);
      continue;
    }
    const mapped = upper ? ch.toUpperCase() : ch.toLowerCase();
    out += Array.from(mapped).length === 1 ? mapped : ch;
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_DECODE = new Map([...B64].map((c, i) => [c.charCodeAt(0), i]));

/** base64.StdEncoding.DecodeString, with Go's "illegal base64 data at input byte N" errors. */
export function base64StdDecode(text: string): string {
  const src = Buffer.from(text, 'utf8');
  const out: number[] = [];
  let si = 0;
  const corrupt = (at: number): never => {
    throw new GoError(`illegal base64 data at input byte ${at}`);
  };
  while (si < src.length) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let err: number | undefined;
    let j = 0;
    for (; j < 4; j++) {
      if (src.length === si) {
        if (j === 0) return Buffer.from(out).toString('utf8');
        corrupt(si - j);
      }
      const c = src[si]!;
      si++;
      const v = B64_DECODE.get(c);
      if (v !== undefined) {
        dbuf[j] = v;
        continue;
      }
      if (c === 0x0a || c === 0x0d) {
        j--;
        continue;
      }
      if (c !== 0x3d) corrupt(si - 1);
      if (j === 0 || j === 1) corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
        if (si === src.length) corrupt(src.length);
        if (src[si] !== 0x3d) corrupt(si - 1);
        si++;
      }
      while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
      if (si < src.length) err = si;
      dlen = j;
      break;
    }
    const val = (dbuf[0]! << 18) | (dbuf[1]! << 12) | (dbuf[2]! << 6) | dbuf[3]!;
    const bytes = [(val >> 16) & 255, (val >> 8) & 255, val & 255];
    out.push(...bytes.slice(0, dlen - 1));
    if (err !== undefined) corrupt(err);
  }
  return Buffer.from(out).toString('utf8');
}

/** strconv.ParseBool. */
export function goParseBool(s: string): boolean {
  switch (s) {
    case '1':
    case 't':
    case 'T':
    case 'true':
    case 'TRUE':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'false':
    case 'FALSE':
    case 'False':
      return false;
  }
  throw new GoError(`strconv.ParseBool: parsing ${quote(s)}: invalid syntax`);
}

/** strconv.Atoi. */
export function goAtoi(s: string): number | bigint {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new GoError(`strconv.Atoi: parsing ${quote(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > (1n << 63n) - 1n || n < -(1n << 63n)) throw new GoError(`strconv.Atoi: parsing ${quote(s)}: value out of range`);
  return makeInt(n);
}

function defaultFileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR';
  }
}

function srvKey(r: Srv): string {
  return `${r.Target}${r.Port.value}${r.Priority.value}${r.Weight.value}`;
}

/**
 * confd's function map bound to a key/value snapshot: store functions (exists, ls, lsdir, get,
 * gets, getv, getvs) plus base, split, json, jsonArray, dir, map, getenv, join, datetime,
 * toUpper, toLower, contains, replace, trimSuffix, lookupIP, lookupIPV4, lookupIPV6, lookupSRV,
 * fileExists, base64Encode, base64Decode, parseBool, reverse, sortByLength, sortKVByLength,
 * add, sub, div, mod, mul, seq, atoi.
 */
export function confdFuncs(source: KvSource, options: ConfdFuncOptions = {}): FuncMap {
  const store = new MemKv(source);
  const env = options.env ?? process.env;
  const now = options.now ?? (() => new Date());
  const zone = options.zone ?? UTC;
  let resolver = options.resolver;
  const dns = (): DnsResolver => (resolver ??= syncDnsResolver());
  const fileExists = options.fileExists ?? defaultFileExists;

  const funcs: FuncMap = {
    base: goFunc({ params: ['string'], result: 'string' }, pathBase),
    split: goFunc({ params: ['string', 'string'], result: '[]string' }, (s: string, sep: string) => stringSlice(goSplit(s, sep))),
    json: goFunc({ params: ['string'], result: 'map[string]any', error: true }, unmarshalObject),
    jsonArray: goFunc({ params: ['string'], result: '[]any', error: true }, unmarshalArray),
    dir: goFunc({ params: ['string'], result: 'string' }, pathDir),
    map: goFunc({ params: ['any'], variadic: true, result: 'map[string]any', error: true }, (...values: unknown[]) => {
      if (values.length % 2 !== 0) throw new GoError('invalid map call');
      const dict = Object.create(null) as Record<string, unknown>;
      for (let i = 0; i < values.length; i += 2) {
        const key = values[i];
        if (typeof key !== 'string') throw new GoError('map keys must be strings');
        dict[key] = values[i + 1] === undefined ? null : values[i + 1];
      }
      return withGoType(dict, T.map(T.string, T.any));
    }),
    getenv: goFunc({ params: ['string', 'string'], variadic: true, result: 'string' }, (key: string, ...v: string[]) => {
      const value = Object.hasOwn(env, key) ? (env[key] ?? '') : '';
      return value === '' ? (v[0] ?? '') : value;
    }),
    join: goFunc({ params: ['[]string', 'string'], result: 'string' }, (elems: string[], sep: string) => elems.join(sep)),
    datetime: goFunc({ params: [], result: TIME_TYPE }, () => {
      const t = now();
      return t instanceof GoTime ? t : GoTime.fromDate(t, zone);
    }),
    toUpper: goFunc({ params: ['string'], result: 'string' }, (s: string) => mapCase(s, true)),
    toLower: goFunc({ params: ['string'], result: 'string' }, (s: string) => mapCase(s, false)),
    contains: goFunc({ params: ['string', 'string'], result: 'bool' }, (s: string, sub: string) => s.includes(sub)),
    replace: goFunc({ params: ['string', 'string', 'string', 'int'], result: 'string' }, (s: string, o: string, n: string, c: unknown) =>
      goReplace(s, o, n, Number(intOf(c))),
    ),
    trimSuffix: goFunc({ params: ['string', 'string'], result: 'string' }, (s: string, suffix: string) =>
      suffix !== '' && s.endsWith(suffix) ? s.slice(0, s.length - suffix.length) : s,
    ),
    ...dnsFuncs(dns),
    fileExists: goFunc({ params: ['string'], result: 'bool' }, (p: string) => fileExists(p)),
    base64Encode: goFunc({ params: ['string'], result: 'string' }, (s: string) => Buffer.from(s, 'utf8').toString('base64')),
    base64Decode: goFunc({ params: ['string'], result: 'string', error: true }, base64StdDecode),
    parseBool: goFunc({ params: ['string'], result: 'bool', error: true }, goParseBool),
    reverse: goFunc({ params: ['any'], result: 'any' }, (values: unknown) => {
      // Go's type switch matches []string and []memkv.KVPair only — not memkv.KVPairs (gets)
      // and not []interface{} (jsonArray), which come back unchanged.
      const name = typeOf(values)?.name;
      if (name === '[]string' || name === '[]memkv.KVPair') (values as unknown[]).reverse();
      return values;
    }),
    sortByLength: goFunc({ params: ['[]string'], result: '[]string' }, (values: string[]) =>
      goSort(values, (a, b) => Buffer.byteLength(a) < Buffer.byteLength(b)),
    ),
    sortKVByLength: goFunc({ params: [KVPAIR_SLICE_TYPE], result: KVPAIR_SLICE_TYPE }, (values: KVPair[]) => {
      goSort(values, (a, b) => Buffer.byteLength(a.Key) < Buffer.byteLength(b.Key));
      // Go returns the same backing array typed []memkv.KVPair; here a copy carries that type.
      return withGoType([...values], KVPAIR_SLICE_TYPE);
    }),
    add: goFunc({ params: ['int', 'int'], result: 'int' }, intOp((a, b) => a + b)),
    sub: goFunc({ params: ['int', 'int'], result: 'int' }, intOp((a, b) => a - b)),
    div: goFunc({ params: ['int', 'int'], result: 'int' }, intOp(divide)),
    mod: goFunc({ params: ['int', 'int'], result: 'int' }, intOp(modulo)),
    mul: goFunc({ params: ['int', 'int'], result: 'int' }, intOp((a, b) => a * b)),
    seq: goFunc({ params: ['int', 'int'], result: INT_SLICE }, (first: unknown, last: unknown) => {
      const out: unknown[] = [];
      for (let i = intOf(first); i <= intOf(last); i++) out.push(makeInt(i));
      return withGoType(out, INT_SLICE);
    }),
    atoi: goFunc({ params: ['string'], result: 'int', error: true }, goAtoi),
    // memkv's FuncMap, added last (addFuncs(tr.funcMap, tr.store.FuncMap))
    ...memkvFuncs(store),
  };
  return funcs;
}

/** lookupIP, lookupIPV4, lookupIPV6, lookupSRV: as confd, sorted so a render does not change with the resolver's order. */
function dnsFuncs(dns: () => DnsResolver): FuncMap {
  const lookupIP = (host: string): string[] => {
    const ips = dns().lookupIP(host);
    if (!ips) return withGoType([], T.slice(T.string));
    return stringSlice(ips.map(goIPString).sort(compareStrings));
  };
  return {
    lookupIP: goFunc({ params: ['string'], result: '[]string' }, lookupIP),
    lookupIPV4: goFunc({ params: ['string'], result: '[]string' }, (host: string) =>
      stringSlice(lookupIP(host).filter((ip) => ip.includes('.'))),
    ),
    lookupIPV6: goFunc({ params: ['string'], result: '[]string' }, (host: string) =>
      stringSlice(lookupIP(host).filter((ip) => ip.includes(':'))),
    ),
    lookupSRV: goFunc({ params: ['string', 'string', 'string'], result: T.slice(SRV_PTR_TYPE) }, (service: string, proto: string, name: string) => {
      const recs = dns().lookupSRV(service, proto, name) ?? [];
      const srvs = recs.map(
        (r) =>
          new Srv(
            r.target.endsWith('.') ? r.target : `${r.target}.`,
            new GoNumber(T.uint16, r.port),
            new GoNumber(T.uint16, r.priority),
            new GoNumber(T.uint16, r.weight),
          ),
      );
      goSort(srvs, (a, b) => compareStrings(srvKey(a), srvKey(b)) < 0);
      return withGoType(srvs, T.slice(SRV_PTR_TYPE));
    }),
  };
}

/** memkv's store functions over the snapshot: exists, ls, lsdir, get, gets, getv, getvs. */
function memkvFuncs(store: MemKv): FuncMap {
  return {
    exists: goFunc({ params: ['string'], result: 'bool' }, (key: string) => store.exists(key)),
    ls: goFunc({ params: ['string'], result: '[]string' }, (p: string) => store.list(p)),
    lsdir: goFunc({ params: ['string'], result: '[]string' }, (p: string) => store.listDir(p)),
    get: goFunc({ params: ['string'], result: KVPAIR_TYPE, error: true }, (key: string) => store.get(key)),
    gets: goFunc({ params: ['string'], result: KVPAIRS_TYPE, error: true }, (pattern: string) => store.getAll(pattern)),
    getv: goFunc({ params: ['string', 'string'], variadic: true, result: 'string', error: true }, (key: string, ...d: string[]) =>
      store.getValue(key, ...d),
    ),
    getvs: goFunc({ params: ['string'], result: '[]string', error: true }, (pattern: string) => store.getAllValues(pattern)),
  };
}

/** The names confd's function map defines (for docs and checks). */
export const CONFD_FUNC_NAMES: readonly string[] = Object.keys(confdFuncs({ get: () => undefined, list: () => [] }));
