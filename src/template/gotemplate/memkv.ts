/**
 * confd's in-memory key/value store functions (github.com/kelseyhightower/memkv, as vendored by
 * confd): exists, ls, lsdir, get, gets, getv, getvs — over a read-only snapshot of the keys the
 * template resource asked for.
 */
import { GoError } from './errors.js';
import { compareStrings } from './fmt.js';
import { pathBase, pathClean, pathDir, pathMatch } from './gopath.js';
import { T } from './types.js';
import { GO_TYPE, withGoType } from './values.js';

/** The key/value view a template's functions read (keys like `/services/web/1`). */
export interface KvSource {
  get(key: string): string | undefined;
  /** Every key (any order). */
  list(): string[];
}

export const KVPAIR_TYPE = T.struct('memkv.KVPair', ['Key', 'Value']);
/** memkv.KVPairs: a named slice type; reverse() does not recognise it (see confd-funcs). */
export const KVPAIRS_TYPE = T.named('memkv.KVPairs', T.slice(KVPAIR_TYPE));
export const KVPAIR_SLICE_TYPE = T.slice(KVPAIR_TYPE);
export const STRING_SLICE_TYPE = T.slice(T.string);

/** memkv.KVPair {Key, Value}; prints as {/key value}. */
export class KVPair {
  static readonly [GO_TYPE] = KVPAIR_TYPE;
  constructor(
    public Key: string,
    public Value: string,
  ) {}
}

/** The error memkv returns for a missing key: "key does not exist: /x". */
function keyError(key: string): GoError {
  return new GoError(`key does not exist: ${key}`);
}

export const stringSlice = (values: string[]): string[] => withGoType(values, STRING_SLICE_TYPE);

function pathToTerms(p: string): string[] {
  return pathClean(p).split('/');
}

function samePrefixTerms(prefix: string[], test: string[]): boolean {
  if (test.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== test[i]) return false;
  return true;
}

function stripKey(key: string, prefix: string): string {
  let s = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  if (s.startsWith('/')) s = s.slice(1);
  return s;
}

const sortStrings = (v: string[]): string[] => v.sort(compareStrings);

export class MemKv {
  constructor(private readonly src: KvSource) {}

  /** Store.Get: the KVPair, or the error "key does not exist: KEY". */
  get(key: string): KVPair {
    const v = this.src.get(key);
    if (v === undefined) throw keyError(key);
    return new KVPair(key, v);
  }

  exists(key: string): boolean {
    return this.src.get(key) !== undefined;
  }

  /** Store.GetValue: the value, the first default when missing, or the error. */
  getValue(key: string, ...defaults: string[]): string {
    const v = this.src.get(key);
    if (v === undefined) {
      if (defaults.length > 0) return defaults[0]!;
      throw keyError(key);
    }
    return v;
  }

  /** Store.GetAll: pairs whose key matches the path.Match pattern, sorted by key. */
  getAll(pattern: string): KVPair[] {
    const out: KVPair[] = [];
    for (const key of this.src.list()) {
      if (pathMatch(pattern, key)) out.push(new KVPair(key, this.src.get(key)!));
    }
    out.sort((a, b) => compareStrings(a.Key, b.Key));
    return withGoType(out, KVPAIRS_TYPE);
  }

  /** Store.GetAllValues: the values of GetAll, sorted as strings. */
  getAllValues(pattern: string): string[] {
    return stringSlice(sortStrings(this.getAll(pattern).map((kv) => kv.Value)));
  }

  /** Store.List: the unique next path segments below filePath (a key equal to it gives its base). */
  list(filePath: string): string[] {
    const seen = new Set<string>();
    const prefix = pathToTerms(filePath);
    for (const key of this.src.list()) {
      if (key === filePath) {
        seen.add(pathBase(key));
        continue;
      }
      const target = pathToTerms(pathDir(key));
      if (samePrefixTerms(prefix, target)) seen.add(stripKey(key, filePath).split('/')[0]!);
    }
    return stringSlice(sortStrings([...seen]));
  }

  /** Store.ListDir: like List but only segments that have keys below them. */
  listDir(filePath: string): string[] {
    const seen = new Set<string>();
    const prefix = pathToTerms(filePath);
    for (const key of this.src.list()) {
      if (!key.startsWith(filePath)) continue;
      const items = pathToTerms(pathDir(key));
      if (samePrefixTerms(prefix, items) && items.length - prefix.length >= 1) seen.add(items[prefix.length]!);
    }
    return stringSlice(sortStrings([...seen]));
  }
}
