/** Service `networks:` (with aliases, addresses, priority) and the top-level `networks:`/`volumes:` definitions. */
import { isIPv4, isIPv6 } from 'node:net';
import type { IpamConfig, NetworkDefinition, ServiceNetwork, VolumeDefinition } from '../model.js';
import type { Context, Mutable } from './context.js';
import { boolKey, listKey, mapKey, readKeys, readMapList, textKey, valueKey, type KeyReader } from './key-readers.js';
import { closest, DOCS, svcDocs, type Loc } from './problems.js';
import { int, mapOf, omitUndefined, str } from './scalars.js';
import { externalOnly, readEngineObject, type EngineObjectOptions, type ObjectReader } from './engine-objects.js';
import { isNull, show, type Entry, type Node } from './yaml.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const MAC = /^(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/;

export interface ServiceNetworks {
  names: string[];
  settings?: Record<string, ServiceNetwork> | undefined;
}

/** The networks a service joins (`default` only when it lists none) and its settings on each. */
export function readServiceNetworks(entry: Entry | undefined, ctx: Context): ServiceNetworks {
  if (!entry) return { names: ['default'] };
  const docs = svcDocs('networks');
  const node = entry.value;
  const names: [string, Loc][] = [];
  const settings: Record<string, ServiceNetwork> = {};
  if (node.kind === 'seq') {
    for (const item of node.items) {
      const n = str(item, ctx, 'a network name', docs);
      if (n !== undefined) names.push([n, item.loc]);
    }
  } else if (node.kind === 'map') {
    for (const e of node.entries.values()) {
      names.push([e.key, e.keyLoc]);
      if (isNull(e.value)) continue;
      const one = readServiceNetwork(e.value, ctx);
      if (one && Object.keys(one).length > 0) settings[e.key] = one;
    }
  } else {
    ctx.problems.add(node.loc, `expected a list or mapping of networks, got ${show(node)}`, docs);
    return { names: ['default'] };
  }
  const out: string[] = [];
  for (const [name, loc] of names) {
    if (name !== 'default' && !ctx.networks.has(name)) {
      const guess = closest(name, [...ctx.networks]);
      ctx.problems.add(
        loc,
        `refers to undefined network ${JSON.stringify(name)}`,
        guess ? `did you mean ${guess}?` : `declare it under the top-level networks: (${name}: {})`,
      );
      continue;
    }
    if (!out.includes(name)) out.push(name);
  }
  return Object.keys(settings).length ? { names: out, settings } : { names: out };
}

const wholeNumber = (v: Node, ctx: Context, docs: string) => int(v, ctx, -(2 ** 31), 2 ** 31, 'a whole number', docs);

const SERVICE_NETWORK_KEYS: Record<string, KeyReader<Mutable<ServiceNetwork>>> = {
  aliases: listKey('aliases', 'aliases', false),
  ipv4_address: valueKey('ipv4Address', (v, ctx, docs) => address(v, ctx, 4, docs)),
  ipv6_address: valueKey('ipv6Address', (v, ctx, docs) => address(v, ctx, 6, docs)),
  link_local_ips: listKey('linkLocalIps', 'IP addresses', false),
  mac_address: valueKey('macAddress', mac),
  driver_opts: mapKey('driverOpts', 'driver options'),
  priority: valueKey('priority', wholeNumber),
  gw_priority: valueKey('gwPriority', wholeNumber),
};

function readServiceNetwork(node: Node, ctx: Context): ServiceNetwork | undefined {
  const docs = svcDocs('networks');
  const map = mapOf(node, ctx, 'a mapping of network options (or nothing)', docs);
  if (!map) return undefined;
  return omitUndefined(readKeys<Mutable<ServiceNetwork>>(map, {}, SERVICE_NETWORK_KEYS, ctx, docs, { name: 'network option', extensions: true }));
}

function address(node: Node, ctx: Context, v: 4 | 6, docs: string): string | undefined {
  const s = str(node, ctx, `an IPv${v} address`, docs);
  if (s !== undefined && !(v === 4 ? isIPv4(s) : isIPv6(s))) {
    ctx.problems.add(node.loc, `expected an IPv${v} address, got ${show(node)}`, docs);
    return undefined;
  }
  return s;
}

export function mac(node: Node, ctx: Context, docs: string): string | undefined {
  const s = str(node, ctx, 'a MAC address like 02:42:ac:11:65:43', docs);
  if (s !== undefined && !MAC.test(s)) {
    ctx.problems.add(node.loc, `expected a MAC address like 02:42:ac:11:65:43, got ${show(node)}`, docs);
    return undefined;
  }
  return s;
}

// ——— top level ——

export interface TopLevel<T> {
  /** Keys as written (for `networks`/`volumes`: every key but the network `default`). */
  keys: string[];
  definitions: Record<string, T>;
}

/** Top-level `networks:` or `volumes:`: each key's definition, read by `reader`; keys must be engine names. */
function readTopLevel<T extends EngineObjectOptions>(entry: Entry | undefined, ctx: Context, project: string, reader: ObjectReader<T>): TopLevel<T> {
  const out: TopLevel<T> = { keys: [], definitions: {} };
  if (!entry || isNull(entry.value)) return out;
  const map = mapOf(entry.value, ctx, `a mapping of ${reader.kind} names`, reader.docs);
  for (const e of map?.entries.values() ?? []) {
    if (!NAME.test(e.key)) {
      ctx.problems.add(e.keyLoc, `invalid ${reader.kind} name ${JSON.stringify(e.key)}`, 'use letters, digits, _, . and -');
      continue;
    }
    if (!(reader.kind === 'network' && e.key === 'default')) out.keys.push(e.key);
    const { def, map: opts } = readEngineObject(e, ctx, project, reader);
    if (def.external && opts) externalOnly(opts, ['name', 'external'], reader.kind, ctx);
    out.definitions[e.key] = def;
  }
  return out;
}

/** A network's own options (besides name, driver, driver_opts, external and labels). */
const NETWORK_OPTIONS: Record<string, KeyReader<Mutable<NetworkDefinition>>> = {
  ipam: valueKey('ipam', readIpam),
  internal: boolKey('internal'),
  attachable: boolKey('attachable'),
  enable_ipv4: boolKey('enableIpv4'),
  enable_ipv6: boolKey('enableIpv6'),
};

/** Top-level `networks:` with their settings. `project` names them (`<project>_<key>`) unless name:/external says otherwise. */
export function readNetworkDefinitions(entry: Entry | undefined, ctx: Context, project: string): TopLevel<NetworkDefinition> {
  const docs = `see ${DOCS}/networks/`;
  return readTopLevel<NetworkDefinition>(entry, ctx, project, {
    kind: 'network',
    docs,
    expected: 'a mapping of network options (or nothing)',
    keys: ['name', 'driver', 'driver_opts', 'ipam', 'internal', 'attachable', 'enable_ipv4', 'enable_ipv6', 'external', 'labels'],
    options: NETWORK_OPTIONS,
  });
}

/** Top-level `volumes:` with their settings. */
export function readVolumeDefinitions(entry: Entry | undefined, ctx: Context, project: string): TopLevel<VolumeDefinition> {
  return readTopLevel<VolumeDefinition>(entry, ctx, project, {
    kind: 'volume',
    docs: `see ${DOCS}/volumes/`,
    expected: 'a mapping of volume options (or nothing)',
    keys: ['name', 'driver', 'driver_opts', 'external', 'labels'],
    options: {},
  });
}

type IpamPool = NonNullable<IpamConfig['config']>[number];

const IPAM_POOL_KEYS: Record<string, KeyReader<Mutable<IpamPool>>> = {
  subnet: valueKey('subnet', cidr),
  ip_range: valueKey('ipRange', cidr),
  gateway: textKey('gateway', 'an IP address'),
  aux_addresses: mapKey('auxAddresses', 'host: IP pairs'),
};

function readIpamPools(v: Node, ctx: Context, docs: string): IpamPool[] | undefined {
  const expected = { list: 'a list of { subnet, ip_range, gateway, aux_addresses }', item: 'a mapping with subnet (ip_range, gateway, aux_addresses)' };
  return readMapList(v, ctx, docs, expected, (m) => omitUndefined(readKeys<Mutable<IpamPool>>(m, {}, IPAM_POOL_KEYS, ctx, docs, { name: 'ipam config key' })));
}

const IPAM_KEYS: Record<string, KeyReader<Mutable<IpamConfig>>> = {
  driver: textKey('driver', 'a driver name'),
  config: valueKey('config', readIpamPools),
  options: mapKey('options', 'options'),
};

function readIpam(node: Node, ctx: Context, docs: string): IpamConfig | undefined {
  const map = mapOf(node, ctx, 'a mapping with driver, config, options', docs);
  if (!map) return undefined;
  return omitUndefined(readKeys<Mutable<IpamConfig>>(map, {}, IPAM_KEYS, ctx, docs, { name: 'ipam key' }));
}

function cidr(node: Node, ctx: Context, docs: string): string | undefined {
  const s = str(node, ctx, 'a subnet like 172.28.0.0/16', docs);
  if (s === undefined) return undefined;
  const [ip, bits, extra] = s.split('/');
  const max = isIPv4(ip ?? '') ? 32 : isIPv6(ip ?? '') ? 128 : -1;
  if (max < 0 || extra !== undefined || bits === undefined || !/^\d+$/.test(bits) || Number(bits) > max) {
    ctx.problems.add(node.loc, `expected a subnet like 172.28.0.0/16, got ${show(node)}`, docs);
    return undefined;
  }
  return s;
}
