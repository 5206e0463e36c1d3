/** `ports:`: short syntax (`127.0.0.1:8080:80/udp`, ranges) and long syntax, one mapping per port. */
import { isIPv4, isIPv6 } from 'node:net';
import { invalidArgument } from '../../common/errors.js';
import type { PortMapping } from '../model.js';
import type { Context } from './context.js';
import { Problems, svcDocs, type Loc } from './problems.js';
import { int, omitUndefined, oneOf, seqOf, str } from './scalars.js';
import { show, type Entry, type MapNode, type Node } from './yaml.js';

const PORTS = String.raw`\d+(?:-\d+)?`;
const HOST_IP = String.raw`(?:\[(?<ip6>[^\]]+)\]|(?<ip4>\d{1,3}(?:\.\d{1,3}){3}))`;
// [IP:[PUBLISHED]:]TARGET, or PUBLISHED:TARGET, then an optional /PROTO.
const PORT_SHORT = new RegExp(
  String.raw`^(?:${HOST_IP}:(?<ipPublished>${PORTS})?:|(?<published>${PORTS}):)?(?<target>${PORTS})(?:/(?<proto>[a-zA-Z]+))?$`,
);
const PORT_HINT = svcDocs('ports');

export function readPorts(entry: Entry | undefined, ctx: Context): PortMapping[] {
  if (!entry) return [];
  const node = entry.value;
  if (node.kind === 'scalar' && node.value === null) return [];
  const list = seqOf(node, ctx, 'a list of ports', PORT_HINT);
  if (!list) return [];
  const out: PortMapping[] = [];
  const seen = new Set<string>();
  for (const item of list.items) {
    const short = item.kind === 'scalar' && (typeof item.value === 'string' || typeof item.value === 'number');
    const mappings =
      item.kind === 'map'
        ? readPortLong(item, ctx)
        : short
          ? parsePortShort(String(item.value), item.loc, ctx.problems)
          : badPort(item, ctx);
    for (const m of mappings) {
      const key = `${m.hostIp ?? ''}|${m.published ?? ''}|${m.target}|${m.protocol}`;
      if (!seen.has(key)) out.push(m);
      seen.add(key);
    }
  }
  return out;
}

function badPort(item: Node, ctx: Context): PortMapping[] {
  ctx.problems.add(item.loc, `expected "HOST:CONTAINER[/PROTO]" or a port number, got ${show(item)}`, PORT_HINT);
  return [];
}

/** Short syntax: `80`, `8080:80`, `127.0.0.1:8080:80/udp`, `[::1]::80`, `8000-8001:80-81`. */
export function parsePortSpec(spec: string): PortMapping[] {
  const problems = new Problems();
  const out = parsePortShort(spec, { file: '', line: 0, path: '' }, problems);
  if (!problems.empty) {
    const [message = '', hint] = problems.messages[0]!.split(' — ');
    throw invalidArgument(`invalid port ${JSON.stringify(spec)}: ${message}`, hint);
  }
  return out;
}

function parsePortShort(spec: string, loc: Loc, problems: Problems): PortMapping[] {
  const m = PORT_SHORT.exec(spec.trim());
  if (!m?.groups) {
    problems.add(loc, `expected "HOST:CONTAINER[/PROTO]" or a port number, got ${JSON.stringify(spec)}`, PORT_HINT);
    return [];
  }
  const g = m.groups;
  const hostIp = g.ip6 ?? g.ip4;
  if (hostIp !== undefined && !(g.ip6 ? isIPv6(hostIp) : isIPv4(hostIp))) {
    problems.add(loc, `expected an IP address before the host port, got ${JSON.stringify(hostIp)}`, PORT_HINT);
    return [];
  }
  const protocol = readProtocol(g.proto, loc, problems);
  if (!protocol) return [];
  return expandPorts({ published: g.ipPublished ?? g.published, target: g.target!, hostIp, protocol }, spec, loc, problems);
}

function readProtocol(proto: string | undefined, loc: Loc, problems: Problems): 'tcp' | 'udp' | undefined {
  const p = (proto ?? 'tcp').toLowerCase();
  if (p === 'tcp' || p === 'udp') return p;
  if (p === 'sctp') problems.add(loc, 'sctp ports are not supported by kiboko deploy yet', 'use tcp or udp');
  else problems.add(loc, `expected protocol tcp or udp, got ${JSON.stringify(proto)}`, PORT_HINT);
  return undefined;
}

function portRange(text: string, loc: Loc, problems: Problems): [number, number] | undefined {
  const [a, b = a] = text.trim().split('-').map((x) => (/^\d+$/.test(x) ? Number(x) : NaN)) as [number, number?];
  if (![a, b].every((n) => Number.isInteger(n) && n! >= 1 && n! <= 65535) || b! < a) {
    problems.add(loc, `expected a port between 1 and 65535 (or a range low-high), got ${JSON.stringify(text)}`, PORT_HINT);
    return undefined;
  }
  return [a, b!];
}

interface PortParts {
  published: string | undefined;
  target: string;
  hostIp: string | undefined;
  protocol: 'tcp' | 'udp';
}

/** Expands `8000-8001:80-81` into one mapping per port. */
function expandPorts(parts: PortParts, spec: string, loc: Loc, problems: Problems): PortMapping[] {
  const { published, target, hostIp, protocol } = parts;
  const t = portRange(target, loc, problems);
  const p = published === undefined || published === '' ? undefined : portRange(published, loc, problems);
  if (!t || (published && !p)) return [];
  if (p && p[1] - p[0] !== t[1] - t[0]) {
    if (t[0] === t[1]) problems.add(
      loc,
      `a host port range for one container port (${JSON.stringify(spec)}) is not supported by kiboko deploy yet`,
      'publish one host port',
    );
    else problems.add(loc, `the host and container port ranges of ${JSON.stringify(spec)} differ in length`, PORT_HINT);
    return [];
  }
  const out: PortMapping[] = [];
  for (let k = 0; k <= t[1] - t[0]; k++) {
    out.push(omitUndefined({ published: p ? p[0] + k : undefined, hostIp, target: t[0] + k, protocol }));
  }
  return out;
}

function readPortLong(node: MapNode, ctx: Context): PortMapping[] {
  let target: number | undefined;
  let published: string | undefined;
  let hostIp: string | undefined;
  let protocol: 'tcp' | 'udp' | undefined = 'tcp';
  for (const e of node.entries.values()) {
    const v = e.value;
    switch (e.key) {
      case 'target':
        target = int(v, ctx, 1, 65535, 'a port between 1 and 65535', PORT_HINT);
        break;
      case 'published':
        if (v.kind === 'scalar' && v.value !== null && typeof v.value !== 'boolean') published = String(v.value);
        else if (!(v.kind === 'scalar' && v.value === null)) ctx.problems.add(
          v.loc,
          `expected a port or a range, got ${show(v)}`,
          PORT_HINT,
        );
        break;
      case 'host_ip':
        hostIp = str(v, ctx, 'an IP address', PORT_HINT);
        if (hostIp !== undefined && !isIPv4(hostIp) && !isIPv6(hostIp)) {
          ctx.problems.add(v.loc, `expected an IP address, got ${JSON.stringify(hostIp)}`, PORT_HINT);
          hostIp = undefined;
        }
        break;
      case 'protocol':
        protocol = readProtocol(str(v, ctx, 'tcp or udp', PORT_HINT) ?? 'tcp', v.loc, ctx.problems);
        break;
      case 'mode':
        oneOf(v, ctx, ['host', 'ingress'], PORT_HINT);
        break;
      case 'name':
      case 'app_protocol':
        break;
      default:
        ctx.problems.add(
          e.keyLoc,
          `unknown port key ${JSON.stringify(e.key)}`,
          `expected target, published, host_ip, protocol, mode, name or app_protocol; ${PORT_HINT}`,
        );
    }
  }
  if (!node.entries.has('target')) ctx.problems.add(node.loc, 'a port needs target: (the container port)', PORT_HINT);
  if (target === undefined || !protocol) return [];
  const loc = node.entries.get('published')?.value.loc ?? node.loc;
  return expandPorts({ published, target: String(target), hostIp, protocol }, `${published ?? ''}:${target}`, loc, ctx.problems);
}
