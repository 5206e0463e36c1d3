/**
 * What the top-level engine objects of a compose file (networks, volumes, secrets, configs) share:
 * their engine name (`<project>_<key>` unless `name:` or `external:` says otherwise) and the
 * options name, external, driver, driver_opts and labels, read once here for all four.
 */
import type { Context, Mutable } from './context.js';
import { bool, mapOf, omitUndefined, str, stringMap } from './scalars.js';
import { isNull, type Entry, type MapNode, type Node } from './yaml.js';

/** The options every engine object has. */
export interface EngineObjectOptions {
  name: string;
  external?: boolean | undefined;
  driver?: string | undefined;
  driverOpts?: Readonly<Record<string, string>> | undefined;
  labels?: Readonly<Record<string, string>> | undefined;
}

export const COMMON_OPTION_KEYS = ['name', 'external', 'driver', 'driver_opts', 'labels'] as const;

/** compose's legacy `external: { name: x }`: the external flag, and the name it carries. */
function readExternal(node: Node, ctx: Context, docs: string): { external?: boolean; name?: string } {
  if (node.kind === 'map') {
    const name = node.entries.get('name');
    ctx.problems.warn(node.loc, 'external: { name: … } is deprecated; write external: true and name: … (as compose suggests)');
    return { external: true, ...(name ? { name: str(name.value, ctx, 'a name', docs) ?? '' } : {}) };
  }
  const b = bool(node, ctx, docs);
  return b === undefined ? {} : { external: b };
}

/**
 * Reads one option of an engine object when it is one they all have (into `def`; `name:` and
 * the legacy external name into `named`); false for any other key, which the caller reads.
 */
function readCommonOption(o: Entry, def: Mutable<EngineObjectOptions>, named: { name?: string | undefined }, ctx: Context, docs: string): boolean {
  switch (o.key) {
    case 'name':
      named.name = str(o.value, ctx, 'a name', docs);
      return true;
    case 'external': {
      const x = readExternal(o.value, ctx, docs);
      def.external = x.external;
      if (x.name) named.name ??= x.name;
      return true;
    }
    case 'driver':
      def.driver = str(o.value, ctx, 'a driver name', docs);
      return true;
    case 'driver_opts':
      def.driverOpts = stringMap(o.value, ctx, 'driver options', docs);
      return true;
    case 'labels':
      def.labels = stringMap(o.value, ctx, 'labels', docs);
      return true;
    default:
      return false;
  }
}

export interface ObjectReader<T extends EngineObjectOptions> {
  /** `network`, `volume`, `secret`, `config`: for messages. */
  kind: string;
  docs: string;
  /** What the options must be, for the type error (`a mapping of network options (or nothing)`). */
  expected: string;
  /** Every key it takes, common ones included, for the unknown-key hint. */
  keys: readonly string[];
  /** Reads a key that is not common; false when it does not know it either (unknown key). */
  readOption: (o: Entry, def: Mutable<T>) => boolean;
}

/**
 * One engine object's definition from its options (a mapping, or nothing): the common options,
 * then the reader's own; unknown keys (but `x-…`) are problems; an external object may only be
 * named; its engine name is settled last. `map` is the options mapping read (undefined when
 * nothing was written), for checks the caller makes after.
 */
export function readEngineObject<T extends EngineObjectOptions>(e: Entry, ctx: Context, project: string, r: ObjectReader<T>): { def: T; map: MapNode | undefined } {
  const def = { name: '' } as Mutable<T>;
  const named: { name?: string | undefined } = {};
  const map = isNull(e.value) ? undefined : mapOf(e.value, ctx, r.expected, r.docs);
  for (const o of map?.entries.values() ?? []) {
    if (isNull(o.value)) continue;
    if (readCommonOption(o, def, named, ctx, r.docs) || r.readOption(o, def) || o.key.startsWith('x-')) continue;
    ctx.problems.add(o.keyLoc, `unknown ${r.kind} key ${JSON.stringify(o.key)}`, `expected ${listed(r.keys)}; ${r.docs}`);
  }
  def.name = named.name ?? (def.external ? e.key : `${project}_${e.key}`);
  return { def: omitUndefined(def) as T, map };
}

/** compose: an external object is only named, never configured. */
export function externalOnly(map: MapNode, allowed: readonly string[], kind: string, ctx: Context): void {
  for (const o of map.entries.values()) {
    if (allowed.includes(o.key) || o.key.startsWith('x-') || isNull(o.value)) continue;
    ctx.problems.add(o.keyLoc, `an external ${kind} cannot set ${o.key}: it is created elsewhere`, `remove ${o.key}, or external: true`);
  }
}

const listed = (keys: readonly string[]) => (keys.length < 2 ? keys.join('') : `${keys.slice(0, -1).join(', ')} or ${keys.at(-1)}`);
