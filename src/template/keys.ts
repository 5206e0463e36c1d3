/**
 * Key paths exactly as confd handles them: Go's `path.Clean`/`path.Join`, the per-resource
 * prefix, and the in-memory store the template sees (keys relative to the prefix).
 */
import { pathClean } from './gotemplate/index.js';

/** Go's `path.Clean`: lexical clean-up of a slash-separated path. */
export const goClean: (p: string) => string = pathClean;

/** Go's `path.Join`: empty elements are ignored; the result is cleaned; all empty gives "". */
export function goJoin(...parts: string[]): string {
  const nonEmpty = parts.filter((p) => p !== '');
  return nonEmpty.length === 0 ? '' : goClean(nonEmpty.join('/'));
}

/**
 * The prefix a resource uses: the global `--prefix` when set (it replaces the resource's own
 * `prefix`, as confd's `NewTemplateResource` does), always with a leading `/`.
 */
export function effectivePrefix(resourcePrefix: string | undefined, globalPrefix: string | undefined): string {
  const p = globalPrefix ? globalPrefix : (resourcePrefix ?? '');
  return p.startsWith('/') ? p : `/${p}`;
}

/** The backend keys a resource asks for: each key joined onto the prefix (confd's appendPrefix). */
export function prefixedKeys(prefix: string, keys: readonly string[]): string[] {
  return keys.map((k) => goJoin(prefix, k));
}

/** The read-only key/value view a template's functions work on. */
export interface KvSnapshot {
  get(key: string): string | undefined;
  /** Every key, sorted. */
  list(): string[];
}

/**
 * The store a template sees: backend keys with the prefix trimmed and re-rooted at `/`
 * (confd's setVars: `path.Join("/", strings.TrimPrefix(k, prefix))`).
 */
export function snapshotFor(prefix: string, values: ReadonlyMap<string, string>): KvSnapshot & { entries(): [string, string][] } {
  const store = new Map<string, string>();
  for (const [k, v] of values) store.set(goJoin('/', k.startsWith(prefix) ? k.slice(prefix.length) : k), v);
  const keys = [...store.keys()].sort();
  return {
    get: (key) => store.get(key),
    list: () => [...keys],
    entries: () => keys.map((k) => [k, store.get(k)!]),
  };
}

/** A snapshot straight from a plain object (tests, fixtures, the library API). */
export function snapshotOf(values: Readonly<Record<string, string>>): KvSnapshot {
  return snapshotFor('/', new Map(Object.entries(values)));
}
