/**
 * What the top-level engine objects of a compose file (networks, volumes, secrets, configs) share:
 * their engine name (`<project>_<key>` unless `name:` or `external:` says otherwise) and the
 * options name, external, driver, driver_opts and labels, read once here for all four.
 */
import type { Context, Mutable } from './context.js';
import { mapKey, readKeys, textKey, type KeyReader } from './key-readers.js';
import { bool, mapOf, omitUndefined, str } from './scalars.js';
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
 * The options every engine object has. `name:` and the legacy external name both land in `name`
 * (`name:` wins whatever the order); the engine name is settled after all options are read.
 */
const COMMON_OPTIONS: Readonly<Record<string, KeyReader<Mutable<EngineObjectOptions>>>> = {
  name: textKey('name', 'a name'),
  external: (v, def, ctx, docs) => {
    const x = readExternal(v, ctx, docs);
    def.external = x.external;
    if (x.name) def.name ??= x.name;
  },
  driver: textKey('driver', 'a driver name'),
  driver_opts: mapKey('driverOpts', 'driver options'),
  labels: mapKey('labels', 'labels'),
};

export interface ObjectReader<T extends EngineObjectOptions> {
  /** `network`, `volume`, `secret`, `config`: for messages. */
  kind: string;
  docs: string;
  /** What the options must be, for the type error (`a mapping of network options (or nothing)`). */
  expected: string;
  /** Every key it takes, common ones included, for the unknown-key hint. */
  keys: readonly string[];
  /** The readers of its own options (those not common to all engine objects). */
  options: Readonly<Record<string, KeyReader<Mutable<T>>>>;
}

/**
 * One engine object's definition from its options (a mapping, or nothing): the common options,
 * then the reader's own; unknown keys (but `x-…`) are problems; an external object may only be
 * named; its engine name is settled last. `map` is the options mapping read (undefined when
 * nothing was written), for checks the caller makes after.
 */
export function readEngineObject<T extends EngineObjectOptions>(e: Entry, ctx: Context, project: string, r: ObjectReader<T>): { def: T; map: MapNode | undefined } {
  // `name` stays the first key (as compose prints it); it is unset until an option names the object.
  const def = { name: undefined } as unknown as Mutable<T>;
  const map = isNull(e.value) ? undefined : mapOf(e.value, ctx, r.expected, r.docs);
  const options = { ...r.options, ...COMMON_OPTIONS } as Record<string, KeyReader<Mutable<T>>>;
  if (map) readKeys(map, def, options, ctx, r.docs, { name: `${r.kind} key`, extensions: true, expected: r.keys });
  def.name ??= def.external ? e.key : `${project}_${e.key}`;
  return { def: omitUndefined(def) as T, map };
}

/** compose: an external object is only named, never configured. */
export function externalOnly(map: MapNode, allowed: readonly string[], kind: string, ctx: Context): void {
  for (const o of map.entries.values()) {
    if (allowed.includes(o.key) || o.key.startsWith('x-') || isNull(o.value)) continue;
    ctx.problems.add(o.keyLoc, `an external ${kind} cannot set ${o.key}: it is created elsewhere`, `remove ${o.key}, or external: true`);
  }
}
