/**
 * DNS for confd's lookupIP/lookupIPV4/lookupIPV6/lookupSRV. Go resolves synchronously inside
 * template execution; Node cannot, so there are three ways to provide answers:
 *  - `syncDnsResolver()` (the default): resolves in a short-lived child `node` process
 *    (spawnSync, argv only, bounded by a timeout), cached per resolver: same answers as
 *    getaddrinfo / the system resolver, at the cost of one process per distinct name;
 *  - `staticDnsResolver(table)`: fixed answers (tests, air-gapped runs);
 *  - `renderWithDnsPrefetch(render, resolveAsync)`: renders with a recording resolver,
 *    resolves every name asked for asynchronously, and renders again from that cache
 *    (repeating while new names appear), for callers that must not block the event loop.
 */
import { spawnSync } from 'node:child_process';
import * as dns from 'node:dns/promises';
import { isIP } from 'node:net';

export interface SrvRecord {
  target: string;
  port: number;
  priority: number;
  weight: number;
}

export interface DnsResolver {
  /** All addresses of host (IPv4 and IPv6), or undefined when the lookup fails. */
  lookupIP(host: string): string[] | undefined;
  /** SRV records of _service._proto.name (or name when both are empty), or undefined on failure. */
  lookupSRV(service: string, proto: string, name: string): SrvRecord[] | undefined;
}

/** Go's net.IP.String() for an address string: IPv4-mapped IPv6 prints as IPv4; IPv6 in RFC 5952 form. */
export function goIPString(addr: string): string {
  const kind = isIP(addr);
  if (kind === 4) return addr.split('.').map((p) => String(Number(p))).join('.');
  if (kind !== 6) return addr;
  let s = addr.toLowerCase().split('%')[0]!;
  // expand an embedded IPv4 tail
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const parts = v4[1]!.split('.').map(Number);
    s = s.slice(0, -v4[1]!.length) + ((parts[0]! << 8) | parts[1]!).toString(16) + ':' + ((parts[2]! << 8) | parts[3]!).toString(16);
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const nums = groups.map((g) => parseInt(g, 16));
  if (nums.slice(0, 5).every((n) => n === 0) && nums[5] === 0xffff) {
    return `${nums[6]! >> 8}.${nums[6]! & 255}.${nums[7]! >> 8}.${nums[7]! & 255}`;
  }
  // longest run of ≥2 zero groups, first one on ties
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (nums[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && nums[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = nums.map((n) => n.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

const CHILD_SCRIPT = `
const dns = require('node:dns');
const [kind, a, b, c] = process.argv.slice(1);
const done = (v) => { process.stdout.write(JSON.stringify(v)); };
if (kind === 'ip') {
  dns.lookup(a, { all: true, verbatim: true }, (err, addrs) => done(err ? null : addrs.map((x) => x.address)));
} else {
  const name = b === '' && a === '' ? c : '_' + a + '._' + b + '.' + c;
  dns.resolveSrv(name, (err, recs) => done(err ? null : recs));
}
`;

/** The default resolver: synchronous lookups in a child node process, cached. */
export function syncDnsResolver(options: { timeoutMs?: number } = {}): DnsResolver {
  const timeout = options.timeoutMs ?? 10_000;
  const ipCache = new Map<string, string[] | undefined>();
  const srvCache = new Map<string, SrvRecord[] | undefined>();
  const run = (args: string[]): unknown => {
    const r = spawnSync(process.execPath, ['-e', CHILD_SCRIPT, ...args], { timeout, encoding: 'utf8' });
    if (r.status !== 0 || !r.stdout) return null;
    try {
      return JSON.parse(r.stdout) as unknown;
    } catch {
      return null;
    }
  };
  return {
    lookupIP(host) {
      if (isIP(host)) return [host];
      if (!ipCache.has(host)) {
        const v = run(['ip', host]);
        ipCache.set(host, Array.isArray(v) ? (v as string[]) : undefined);
      }
      return ipCache.get(host);
    },
    lookupSRV(service, proto, name) {
      const key = `${service}\0${proto}\0${name}`;
      if (!srvCache.has(key)) {
        const v = run(['srv', service, proto, name]);
        srvCache.set(
          key,
          Array.isArray(v)
            ? (v as { name: string; port: number; priority: number; weight: number }[]).map((r) => ({
                target: r.name,
                port: r.port,
                priority: r.priority,
                weight: r.weight,
              }))
            : undefined,
        );
      }
      return srvCache.get(key);
    },
  };
}

/** Fixed answers: `{ ip: { host: [addrs] }, srv: { "_svc._tcp.name": [records] } }`; unknown names fail. */
export function staticDnsResolver(table: {
  ip?: Record<string, string[]>;
  srv?: Record<string, SrvRecord[]>;
}): DnsResolver {
  return {
    lookupIP(host) {
      if (isIP(host)) return [host];
      return table.ip && Object.hasOwn(table.ip, host) ? [...table.ip[host]!] : undefined;
    },
    lookupSRV(service, proto, name) {
      const key = service === '' && proto === '' ? name : `_${service}._${proto}.${name}`;
      return table.srv && Object.hasOwn(table.srv, key) ? table.srv[key]!.map((r) => ({ ...r })) : undefined;
    },
  };
}

export interface AsyncDns {
  lookupIP(host: string): Promise<string[] | undefined>;
  lookupSRV(service: string, proto: string, name: string): Promise<SrvRecord[] | undefined>;
}

/** Node's own asynchronous resolver (getaddrinfo for addresses, DNS for SRV). */
export async function nodeAsyncDns(): Promise<AsyncDns> {
  return {
    async lookupIP(host) {
      try {
        return (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
      } catch {
        return undefined;
      }
    },
    async lookupSRV(service, proto, name) {
      try {
        const recs = await dns.resolveSrv(service === '' && proto === '' ? name : `_${service}._${proto}.${name}`);
        return recs.map((r) => ({ target: r.name, port: r.port, priority: r.priority, weight: r.weight }));
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * Renders without blocking on DNS: `render(resolver)` is run with a resolver answering from a
 * cache and recording misses; misses are resolved with `dns` and the render repeated, until a
 * render asks for nothing new (at most `maxPasses`). The final render is what Go would produce
 * given the same DNS answers.
 */
export async function renderWithDnsPrefetch<R>(
  render: (resolver: DnsResolver) => R,
  dns: AsyncDns,
  maxPasses = 4,
): Promise<R> {
  const ips = new Map<string, string[] | undefined>();
  const srvs = new Map<string, SrvRecord[] | undefined>();
  for (let pass = 0; ; pass++) {
    const missIP = new Set<string>();
    const missSRV = new Map<string, [string, string, string]>();
    const resolver: DnsResolver = {
      lookupIP(host) {
        if (isIP(host)) return [host];
        if (ips.has(host)) return ips.get(host);
        missIP.add(host);
        return undefined;
      },
      lookupSRV(service, proto, name) {
        const key = `${service}\0${proto}\0${name}`;
        if (srvs.has(key)) return srvs.get(key);
        missSRV.set(key, [service, proto, name]);
        return undefined;
      },
    };
    let result: R;
    let failure: unknown;
    try {
      result = render(resolver);
    } catch (e) {
      failure = e;
    }
    if ((missIP.size === 0 && missSRV.size === 0) || pass + 1 >= maxPasses) {
      if (failure !== undefined) throw failure;
      return result!;
    }
    await Promise.all([
      ...[...missIP].map(async (h) => ips.set(h, await dns.lookupIP(h))),
      ...[...missSRV].map(async ([k, [s, p, n]]) => srvs.set(k, await dns.lookupSRV(s, p, n))),
    ]);
  }
}
