/**
 * compose's merge rules, used for override files (`-f a -f b`), `extends` and `include`:
 * mappings merge key by key, scalars replace, lists append (ports, volumes, secrets, env_file …
 * are then made unique when read: ports by value, volumes by target with the later one winning);
 * `command`, `entrypoint` and `healthcheck.test` replace; `environment`, `labels`, `annotations`,
 * `sysctls`, `depends_on`, service `networks`, `build.args`/`build.labels` (map or `KEY=VAL`
 * list) merge by key; `logging.options` are replaced when the driver changes. A short-syntax
 * `build: ./dir` merges with a mapping as `{ context: ./dir }`. `!reset` removes a value,
 * `!override` replaces it whole.
 */
import type { Entry, MapNode, Node, ScalarNode } from './yaml.js';

export function mergeNodes(base: Node | undefined, over: Node, p: readonly string[]): Node | undefined {
  if (over.tag === '!reset') return undefined;
  if (base === undefined || over.tag === '!override') return withoutResets(over);
  const inService = p.length === 3 && p[0] === 'services';
  const key = p[p.length - 1];
  if (inService && (key === 'command' || key === 'entrypoint')) return withoutResets(over);
  if (p.length === 4 && p[0] === 'services' && p[2] === 'healthcheck' && key === 'test') return withoutResets(over);
  const keyed = (inService && key !== undefined && KEYED_LISTS.has(key)) ||
    (p.length === 4 && p[0] === 'services' && (p[2] === 'build' || p[2] === 'deploy') && (key === 'args' || key === 'labels'));
  if (keyed && key !== undefined) {
    const b = asKeyedMap(base, key);
    const o = asKeyedMap(over, key);
    return b && o ? mergeMaps(b, o, p) : withoutResets(over);
  }
  if (inService && key === 'build') {
    const b = buildMap(base);
    const o = buildMap(over);
    return b.kind === 'map' && o.kind === 'map' ? mergeMaps(b, o, p) : withoutResets(over);
  }
  if (inService && key === 'logging' && base.kind === 'map' && over.kind === 'map') return mergeLogging(base, over, p);
  if (base.kind === 'map' && over.kind === 'map') return mergeMaps(base, over, p);
  if (base.kind === 'seq' && over.kind === 'seq') return { ...over, items: [...base.items, ...withoutResetItems(over.items)] };
  return withoutResets(over);
}

export function mergeMaps(base: MapNode, over: MapNode, p: readonly string[]): MapNode {
  const entries = new Map(base.entries);
  for (const [key, entry] of over.entries) {
    const prev = entries.get(key);
    const merged = mergeNodes(prev?.value, entry.value, [...p, key]);
    if (merged === undefined) entries.delete(key);
    // The first declaration stays the entry's origin (services keep the line they were declared on).
    else entries.set(key, { key, keyLoc: prev?.keyLoc ?? entry.keyLoc, value: merged });
  }
  return { ...base, entries, tag: undefined };
}

/**
 * The node without its `!reset` entries and items and without merge tags. A subtree with no tag
 * is returned as it is, not copied: the first file of a project (most projects have one) is
 * merged into nothing, and its tree, once read, is never changed.
 */
export function withoutResets(node: Node): Node {
  if (node.kind === 'map') {
    let entries: Map<string, Entry> | undefined;
    let i = 0;
    for (const [k, e] of node.entries) {
      const value = e.value.tag === '!reset' ? undefined : withoutResets(e.value);
      if (value !== e.value && entries === undefined) entries = new Map([...node.entries].slice(0, i));
      if (entries && value) entries.set(k, value === e.value ? e : { ...e, value });
      i++;
    }
    return entries === undefined && node.tag === undefined ? node : { ...node, entries: entries ?? node.entries, tag: undefined };
  }
  if (node.kind === 'seq') {
    const items = withoutResetItems(node.items);
    return items === node.items && node.tag === undefined ? node : { ...node, items, tag: undefined };
  }
  return node.tag === undefined ? node : { ...node, tag: undefined };
}
/** The items without `!reset` ones and merge tags: the same array when nothing changes. */
function withoutResetItems(items: Node[]): Node[] {
  let out: Node[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const value = item.tag === '!reset' ? undefined : withoutResets(item);
    if (value !== item && out === undefined) out = items.slice(0, i);
    if (out && value) out.push(value);
  }
  return out ?? items;
}

const KEYED_LISTS = new Set(['environment', 'labels', 'annotations', 'sysctls', 'depends_on', 'networks']);
const KEY_VALUE_LISTS = new Set(['environment', 'labels', 'annotations', 'sysctls', 'args']);

/** `build: ./dir` as `{ context: ./dir }`, so a short form merges with a long one. */
function buildMap(node: Node): Node {
  if (node.kind !== 'scalar' || typeof node.value !== 'string') return node;
  const context: Entry = { key: 'context', keyLoc: node.loc, value: node };
  return { kind: 'map', entries: new Map([['context', context]]), loc: node.loc, tag: node.tag };
}

/** compose: a different driver drops the base's options; the same (or no) driver merges them. */
function mergeLogging(base: MapNode, over: MapNode, p: readonly string[]): MapNode {
  const driver = (m: MapNode) => {
    const d = m.entries.get('driver')?.value;
    return d?.kind === 'scalar' ? d.value : undefined;
  };
  const a = driver(base);
  const b = driver(over);
  if (a !== undefined && b !== undefined && a !== b) return withoutResets(over) as MapNode;
  return mergeMaps(base, over, p);
}

/** The map form of a list-or-map key, or undefined when the list has an item that is not a plain name. */
export function asKeyedMap(node: Node, key: string): MapNode | undefined {
  if (node.kind === 'map') return node;
  if (node.kind !== 'seq') return undefined;
  const entries = new Map<string, Entry>();
  for (const item of node.items) {
    if (item.kind !== 'scalar' || typeof item.value !== 'string' || item.value === '') return undefined;
    if (KEY_VALUE_LISTS.has(key)) {
      const eq = item.value.indexOf('=');
      if (eq === 0) return undefined;
      const k = eq < 0 ? item.value : item.value.slice(0, eq);
      const value: ScalarNode = { kind: 'scalar', value: eq < 0 ? null : item.value.slice(eq + 1), loc: item.loc };
      entries.set(k, { key: k, keyLoc: item.loc, value });
    } else if (key === 'depends_on') {
      const started: ScalarNode = { kind: 'scalar', value: 'service_started', loc: item.loc };
      const condition = new Map([['condition', { key: 'condition', keyLoc: item.loc, value: started }]]);
      entries.set(item.value, { key: item.value, keyLoc: item.loc, value: { kind: 'map', entries: condition, loc: item.loc } });
    } else {
      entries.set(item.value, { key: item.value, keyLoc: item.loc, value: { kind: 'scalar', value: null, loc: item.loc } });
    }
  }
  return { kind: 'map', entries, loc: node.loc };
}
