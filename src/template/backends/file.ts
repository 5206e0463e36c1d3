import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseDocument, type Tags } from 'yaml';
import { restUnlessAborted } from '../../common/abort.js';
import { invalidArgument } from '../../common/errors.js';
import { goJoin } from '../keys.js';
import { findFiles } from '../resource.js';
import type { Backend } from './types.js';

/**
 * Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest digits that round-trip, never an
 * exponent (`1e21` → `1000000000000000000000`), `+Inf`/`-Inf`/`NaN` for the specials.
 */
export function formatGoFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (Object.is(f, -0)) return '-0';
  const s = String(f);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, lead, frac = '', expText] = m;
  const digits = lead! + frac;
  const exp = Number(expText);
  if (exp >= 0) return sign + (digits.length <= exp + 1 ? digits + '0'.repeat(exp + 1 - digits.length) : `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`);
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Flattens a YAML/JSON document the way confd's file backend does (gopkg.in/yaml.v2 into
 * interface{}, then nodeWalk): maps and lists become path segments (`/a/b`, `/list/0`), strings
 * are kept, ints and floats are formatted as Go does, booleans become `true`/`false`; nulls are
 * skipped, and so are integers that need uint64 (yaml.v2 yields a type nodeWalk ignores).
 */
export function flatten(node: unknown, key: string, out: Map<string, string>): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => flatten(item, goJoin(key, String(i)), out));
  } else if (node instanceof Map) {
    for (const [k, v] of node) flatten(v, goJoin(key, scalarKey(k)), out);
  } else if (typeof node === 'string') {
    out.set(key, node);
  } else if (typeof node === 'bigint') {
    if (node >= INT64_MIN && node <= INT64_MAX) out.set(key, node.toString());
    else if (node > INT64_MAX && node <= UINT64_MAX) return;
    else out.set(key, formatGoFloat(Number(node)));
  } else if (typeof node === 'number') {
    out.set(key, formatGoFloat(node));
  } else if (node instanceof Uint8Array) {
    out.set(key, Buffer.from(node).toString('utf8'));
  } else if (typeof node === 'boolean') {
    out.set(key, node ? 'true' : 'false');
  } else if (node !== null && typeof node === 'object' && !(node instanceof Date)) {
    for (const [k, v] of Object.entries(node)) flatten(v, goJoin(key, k), out);
  }
}

/** confd asserts map keys are strings (and panics otherwise); kiboko spells other scalars out. */
function scalarKey(k: unknown): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number') return formatGoFloat(k);
  return String(k);
}

/**
 * YAML 1.1, as yaml.v2 reads it (`yes`/`on` are booleans, `0755` is octal), except timestamps,
 * and sexagesimal numbers (`1:20`), which yaml.v2 leaves as strings when decoding into interface{}.
 */
const noTimestamps = (tags: Tags): Tags =>
  tags.filter((t) => typeof t === 'string' || !(t.tag === 'tag:yaml.org,2002:timestamp' || (t as { format?: string }).format === 'TIME'));

export function parseValuesFile(text: string, file: string): Map<string, string> {
  const doc = parseDocument(text, { version: '1.1', customTags: noTimestamps, intAsBigInt: true, uniqueKeys: false });
  if (doc.errors.length) {
    throw invalidArgument(`cannot parse ${file}: ${doc.errors[0]!.message.split('\n')[0]}`, 'the file backend reads YAML or JSON');
  }
  const root = doc.toJS({ mapAsMap: true, maxAliasCount: 1000 }) as unknown;
  const out = new Map<string, string>();
  if (root === null || root === undefined) return out;
  if (!(root instanceof Map)) throw invalidArgument(`cannot use ${file}: expected a mapping at the top, got ${Array.isArray(root) ? 'a list' : typeof root}`, 'the file backend needs key: value pairs at the top level');
  flatten(root, '/', out);
  return out;
}

export interface FileBackendOptions {
  /** Files or folders (folders are walked for files matching `filter`). */
  paths: readonly string[];
  /** Base-name glob for files inside folders (confd's `-filter`, default `*`). */
  filter?: string;
}

/**
 * confd's file backend: YAML/JSON files (later files override earlier ones), flattened to
 * `/a/b/c` keys; each requested key selects every key that starts with it (a string prefix).
 * Watched with fs.watch on the files' folders, so editors that replace files are seen too.
 */
export function fileBackend(options: FileBackendOptions): Backend {
  if (options.paths.length === 0) throw invalidArgument('the file backend needs --file PATH', 'e.g. --backend file --file values.yaml (repeatable; folders too)');
  const filter = options.filter ?? '*';
  const files = async () => (await Promise.all(options.paths.map((p) => findFiles(p, filter).catch((cause: NodeJS.ErrnoException) => {
    throw invalidArgument(`cannot read ${p}: ${cause.code === 'ENOENT' ? 'no such file or folder' : cause.message}`, 'check the --file paths', cause);
  })))).flat();
  return {
    name: 'file',
    async getValues(keys) {
      const all = new Map<string, string>();
      for (const f of await files()) for (const [k, v] of parseValuesFile(await readFile(f, 'utf8'), f)) all.set(k, v);
      const out = new Map<string, string>();
      for (const [k, v] of all) if (keys.some((key) => k.startsWith(key))) out.set(k, v);
      return out;
    },
    async watch(_prefixes, signal, { onChange, onReady }) {
      const watchers: FSWatcher[] = [];
      try {
        for (const p of options.paths) {
          const isDir = (await stat(p)).isDirectory();
          const dir = isDir ? p : dirname(p);
          const only = isDir ? undefined : basename(p);
          watchers.push(
            fsWatch(dir, { recursive: isDir, signal }, (_event, name) => {
              if (only === undefined || name === null || String(name) === only) onChange(undefined);
            }),
          );
        }
        onReady?.();
        await restUnlessAborted(Number.POSITIVE_INFINITY, signal);
      } finally {
        for (const w of watchers) w.close();
      }
    },
    close: async () => undefined,
  };
}
