import { invalidArgument } from '../../common/errors.js';

/** kiboko's reserved root qdisc handle ("ki"); teardown only ever deletes this handle. */
export const KIBOKO_HANDLE = '6b69:';
const CHILD_HANDLE = '6b6a:';

/** Root qdiscs a device has when nobody configured it; anything else belongs to someone. */
const DEFAULT_ROOTS = new Set(['noqueue', 'pfifo_fast', 'fq_codel', 'mq', 'pfifo', 'noop', 'fq', 'sfq', 'cake']);

export interface RootQdisc {
  kind: string;
  handle: string;
}

/** Parses `tc qdisc show dev IF` for the root qdisc. */
export function parseRootQdisc(show: string): RootQdisc | undefined {
  for (const line of show.split('\n')) {
    const m = /^qdisc (\S+) (\S+) .*\broot\b/.exec(line.trim());
    if (m) return { kind: m[1]!, handle: m[2]! };
  }
  return undefined;
}

export type RootOwnership = 'free' | 'kiboko' | 'foreign';

export function rootOwnership(root: RootQdisc | undefined): RootOwnership {
  if (!root) return 'free';
  if (root.handle === KIBOKO_HANDLE) return 'kiboko';
  return DEFAULT_ROOTS.has(root.kind) && root.handle === '0:' ? 'free' : 'foreign';
}

const RATE = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|tbit|bps|kbps|mbps|gbps|tbps)$/i;
const RATE_BITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12, bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9, tbps: 8e12 };

/** Validates a tc rate (`100kbit`, `1mbit`, `10mbps`) and returns bits per second. */
export function parseRate(value: string, flag = '--rate'): number {
  const m = RATE.exec(value.trim());
  if (!m) throw invalidArgument(`invalid ${flag} '${value}': expected a rate such as 100kbit, 1mbit or 10mbps`, `e.g. ${flag} 1mbit`);
  const bits = Number(m[1]) * RATE_BITS[m[2]!.toLowerCase()]!;
  if (bits < 8) throw invalidArgument(`invalid ${flag} '${value}': too small`, `e.g. ${flag} 100kbit`);
  return bits;
}

export interface Scope {
  /** Only traffic to these IPv4 addresses/CIDRs (`--target`). */
  targets: readonly string[];
  /** Only traffic from these local ports (`--egress-port`, Pumba's sport). */
  egressPorts: readonly number[];
  /** Only traffic to these ports (`--ingress-port`, Pumba's dport). */
  ingressPorts: readonly number[];
}

export const unscoped = (s: Scope | undefined): boolean => !s || (s.targets.length === 0 && s.egressPorts.length === 0 && s.ingressPorts.length === 0);

function filters(iface: string, scope: Scope, flowid: string): string[][] {
  const base = ['tc', 'filter', 'add', 'dev', iface, 'protocol', 'ip', 'parent', KIBOKO_HANDLE, 'prio', '1', 'u32'];
  return [
    ...scope.targets.map((t) => [...base, 'match', 'ip', 'dst', t.includes('/') ? t : `${t}/32`, 'flowid', flowid]),
    ...scope.egressPorts.map((p) => [...base, 'match', 'ip', 'sport', String(p), '0xffff', 'flowid', flowid]),
    ...scope.ingressPorts.map((p) => [...base, 'match', 'ip', 'dport', String(p), '0xffff', 'flowid', flowid]),
  ];
}

export interface TcPlan {
  iface: string;
  apply: string[][];
  /** One atomic command: deleting kiboko's root puts the device back on its default qdisc. */
  teardown: string[][];
}

const teardownOf = (iface: string) => [['tc', 'qdisc', 'del', 'dev', iface, 'root', 'handle', KIBOKO_HANDLE]];

/**
 * Pure: a bandwidth limit without netem — tbf for the whole device, or htb with a limited class
 * and u32 filters when scoped to targets/ports (unmatched traffic stays unlimited).
 */
export function planRateLimit(iface: string, rate: string, scope?: Scope): TcPlan {
  const bits = parseRate(rate);
  const bytesPerSec = bits / 8;
  const burst = Math.max(Math.ceil(bytesPerSec / 100), 3200); // ≥ 10 ms of traffic and a few MTUs
  if (unscoped(scope)) {
    return {
      iface,
      apply: [['tc', 'qdisc', 'add', 'dev', iface, 'root', 'handle', KIBOKO_HANDLE, 'tbf', 'rate', rate, 'burst', String(burst), 'latency', '400ms']],
      teardown: teardownOf(iface),
    };
  }
  const h = KIBOKO_HANDLE.replace(':', '');
  return {
    iface,
    apply: [
      ['tc', 'qdisc', 'add', 'dev', iface, 'root', 'handle', KIBOKO_HANDLE, 'htb', 'default', '1'],
      ['tc', 'class', 'add', 'dev', iface, 'parent', KIBOKO_HANDLE, 'classid', `${h}:1`, 'htb', 'rate', '100gbit'],
      ['tc', 'class', 'add', 'dev', iface, 'parent', KIBOKO_HANDLE, 'classid', `${h}:2`, 'htb', 'rate', rate, 'ceil', rate, 'burst', String(burst)],
      ...filters(iface, scope!, `${h}:2`),
    ],
    teardown: teardownOf(iface),
  };
}

export interface NetemEffects {
  delay?: { timeMs: number; jitterMs: number; correlation: number; distribution?: 'uniform' | 'normal' | 'pareto' | 'paretonormal' | undefined };
  loss?: { percent: number; correlation: number };
  lossState?: { p13: number; p31: number; p32: number; p23: number; p14: number };
  lossGemodel?: { pg: number; pb: number; oneH: number; oneK: number };
  rate?: { rate: string; packetOverhead: number; cellSize: number; cellOverhead: number };
  duplicate?: { percent: number; correlation: number };
  corrupt?: { percent: number; correlation: number };
}

/** tc reads times with s/ms/us suffixes only (no minutes): whole milliseconds it is. */
const tcTime = (ms: number) => `${ms}ms`;

const pct = (n: number, flag: string) => {
  if (!(n >= 0 && n <= 100)) throw invalidArgument(`invalid ${flag} '${n}': expected a percentage 0-100`, `e.g. ${flag} 10`);
  return `${n}%`;
};

/** Pure: the netem arguments for one or several combined effects. */
export function netemArgs(e: NetemEffects): string[] {
  const args: string[] = [];
  if (e.delay) {
    if (e.delay.timeMs <= 0) throw invalidArgument('invalid --time: the delay must be longer than 0', 'e.g. --time 100 (ms)');
    if (e.delay.jitterMs > e.delay.timeMs) throw invalidArgument(`--jitter ${e.delay.jitterMs}ms is larger than --time ${e.delay.timeMs}ms`, 'jitter must not exceed the delay');
    args.push('delay', tcTime(e.delay.timeMs));
    if (e.delay.jitterMs > 0) {
      args.push(tcTime(e.delay.jitterMs));
      if (e.delay.correlation > 0) args.push(pct(e.delay.correlation, '--correlation'));
      if (e.delay.distribution) args.push('distribution', e.delay.distribution);
    }
  }
  if (e.loss) args.push('loss', 'random', pct(e.loss.percent, '--percent'), ...(e.loss.correlation ? [pct(e.loss.correlation, '--correlation')] : []));
  if (e.lossState) {
    const s = e.lossState;
    args.push('loss', 'state', pct(s.p13, '--p13'), pct(s.p31, '--p31'), pct(s.p32, '--p32'), pct(s.p23, '--p23'), pct(s.p14, '--p14'));
  }
  if (e.lossGemodel) {
    const g = e.lossGemodel;
    args.push('loss', 'gemodel', pct(g.pg, '--pg'), pct(g.pb, '--pb'), pct(g.oneH, '--one-h'), pct(g.oneK, '--one-k'));
  }
  if (e.rate) {
    parseRate(e.rate.rate);
    args.push('rate', e.rate.rate);
    if (e.rate.packetOverhead || e.rate.cellSize || e.rate.cellOverhead) args.push(String(e.rate.packetOverhead), String(e.rate.cellSize), String(e.rate.cellOverhead));
  }
  if (e.duplicate) args.push('duplicate', pct(e.duplicate.percent, '--percent'), ...(e.duplicate.correlation ? [pct(e.duplicate.correlation, '--correlation')] : []));
  if (e.corrupt) args.push('corrupt', pct(e.corrupt.percent, '--percent'), ...(e.corrupt.correlation ? [pct(e.corrupt.correlation, '--correlation')] : []));
  if (args.length === 0) throw invalidArgument('no netem effect given', 'use a subcommand: delay, loss, loss-state, loss-gemodel, rate, duplicate, corrupt');
  return args;
}

/**
 * Pure: netem on the device (one qdisc holding every combined effect), or — when scoped — a
 * prio root whose extra band carries netem and receives only the filtered traffic.
 */
export function planNetem(iface: string, effects: NetemEffects, scope?: Scope): TcPlan {
  const args = netemArgs(effects);
  if (unscoped(scope)) {
    return { iface, apply: [['tc', 'qdisc', 'add', 'dev', iface, 'root', 'handle', KIBOKO_HANDLE, 'netem', ...args]], teardown: teardownOf(iface) };
  }
  const h = KIBOKO_HANDLE.replace(':', '');
  return {
    iface,
    apply: [
      // Four bands; the priomap sends all ordinary traffic to band 1, the filters send the rest to band 4.
      ['tc', 'qdisc', 'add', 'dev', iface, 'root', 'handle', KIBOKO_HANDLE, 'prio', 'bands', '4', 'priomap', ...Array(16).fill('0')],
      ['tc', 'qdisc', 'add', 'dev', iface, 'parent', `${h}:4`, 'handle', CHILD_HANDLE, 'netem', ...args],
      ...filters(iface, scope!, `${h}:4`),
    ],
    teardown: teardownOf(iface),
  };
}
