/** Service `networks:` (with aliases, addresses, priority) and the top-level `networks:`/`volumes:` definitions. */
import { isIPv4, isIPv6 } from 'node:net';
import type { IpamConfig, NetworkDefinition, ServiceNetwork, VolumeDefinition } from '../model.js';
import type { Context, Mutable } from './context.js';
import { closest, DOCS, svcDocs, type Loc } from './problems.js';
import { bool, int, mapOf, omitUndefined, seqOf, str, stringList, stringMap } from './scalars.js';
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

function readServiceNetwork(node: Node, ctx: Context): ServiceNetwork | undefined {
  const docs = svcDocs('networks');
  const map = mapOf(node, ctx, 'a mapping of network options (or nothing)', docs);
  if (!map) return undefined;
  const out: Mutable<ServiceNetwork> = {};
  for (const o of map.entries.values()) {
    if (isNull(o.value)) continue;
    switch (o.key) {
      case 'aliases':
        out.aliases = stringList(o.value, ctx, 'aliases', docs, false);
        break;
      case 'ipv4_address':
        out.ipv4Address = address(o.value, ctx, 4, docs);
        break;
      case 'ipv6_address':
        out.ipv6Address = address(o.value, ctx, 6, docs);
        break;
      case 'link_local_ips':
        out.linkLocalIps = stringList(o.value, ctx, 'IP addresses', docs, false);
        break;
      case 'mac_address':
        out.macAddress = mac(o.value, ctx, docs);
        break;
      case 'driver_opts':
        out.driverOpts = stringMap(o.value, ctx, 'driver options', docs);
        break;
      case 'priority':
        out.priority = int(o.value, ctx, -(2 ** 31), 2 ** 31, 'a whole number', docs);
        break;
      case 'gw_priority':
        out.gwPriority = int(o.value, ctx, -(2 ** 31), 2 ** 31, 'a whole number', docs);
        break;
      default:
        if (o.key.startsWith('x-')) break;
        ctx.problems.add(
          o.keyLoc,
          `unknown network option ${JSON.stringify(o.key)}`,
          `expected aliases, ipv4_address, ipv6_address, link_local_ips, mac_address, driver_opts, priority or gw_priority; ${docs}`,
        );
    }
  }
  return omitUndefined(out);
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

/** The network options that are plain booleans: compose's key, the definition's field. */
const NETWORK_FLAGS = { internal: 'internal', attachable: 'attachable', enable_ipv4: 'enableIpv4', enable_ipv6: 'enableIpv6' } as const;

/** Top-level `networks:` with their settings. `project` names them (`<project>_<key>`) unless name:/external says otherwise. */
export function readNetworkDefinitions(entry: Entry | undefined, ctx: Context, project: string): TopLevel<NetworkDefinition> {
  const docs = `see ${DOCS}/networks/`;
  return readTopLevel<NetworkDefinition>(entry, ctx, project, {
    kind: 'network',
    docs,
    expected: 'a mapping of network options (or nothing)',
    keys: ['name', 'driver', 'driver_opts', 'ipam', 'internal', 'attachable', 'enable_ipv4', 'enable_ipv6', 'external', 'labels'],
    readOption: (o, def) => {
      if (o.key === 'ipam') def.ipam = readIpam(o.value, ctx, docs);
      else if (Object.hasOwn(NETWORK_FLAGS, o.key)) def[NETWORK_FLAGS[o.key as keyof typeof NETWORK_FLAGS]] = bool(o.value, ctx, docs);
      else return false;
      return true;
    },
  });
}

/** Top-level `volumes:` with their settings. */
export function readVolumeDefinitions(entry: Entry | undefined, ctx: Context, project: string): TopLevel<VolumeDefinition> {
  return readTopLevel<VolumeDefinition>(entry, ctx, project, {
    kind: 'volume',
    docs: `see ${DOCS}/volumes/`,
    expected: 'a mapping of volume options (or nothing)',
    keys: ['name', 'driver', 'driver_opts', 'external', 'labels'],
    readOption: () => false,
  });
}

function readIpam(node: Node, ctx: Context, docs: string): IpamConfig | undefined {
  const map = mapOf(node, ctx, 'a mapping with driver, config, options', docs);
  if (!map) return undefined;
  const out: Mutable<IpamConfig> = {};
  for (const e of map.entries.values()) {
    if (isNull(e.value)) continue;
    if (e.key === 'driver') out.driver = str(e.value, ctx, 'a driver name', docs);
    else if (e.key === 'options') out.options = stringMap(e.value, ctx, 'options', docs);
    else if (e.key === 'config') {
      const list = seqOf(e.value, ctx, 'a list of { subnet, ip_range, gateway, aux_addresses }', docs);
      if (!list) continue;
      out.config = list.items.flatMap((item) => {
        const m = mapOf(item, ctx, 'a mapping with subnet (ip_range, gateway, aux_addresses)', docs);
        if (!m) return [];
        const c: { subnet?: string; ipRange?: string; gateway?: string; auxAddresses?: Record<string, string> } = {};
        for (const k of m.entries.values()) {
          if (isNull(k.value)) continue;
          if (k.key === 'subnet') c.subnet = cidr(k.value, ctx, docs);
          else if (k.key === 'ip_range') c.ipRange = cidr(k.value, ctx, docs);
          else if (k.key === 'gateway') c.gateway = str(k.value, ctx, 'an IP address', docs);
          else if (k.key === 'aux_addresses') c.auxAddresses = stringMap(k.value, ctx, 'host: IP pairs', docs);
          else ctx.problems.add(k.keyLoc, `unknown ipam config key ${JSON.stringify(k.key)}`, `expected subnet, ip_range, gateway or aux_addresses; ${docs}`);
        }
        return [omitUndefined(c)];
      });
    } else ctx.problems.add(e.keyLoc, `unknown ipam key ${JSON.stringify(e.key)}`, `expected driver, config or options; ${docs}`);
  }
  return omitUndefined(out);
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
