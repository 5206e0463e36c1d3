import { invalidArgument } from '../../common/errors.js';

export type Protocol = 'any' | 'tcp' | 'udp' | 'icmp';

export interface PacketFilter {
  /** Input interface (`-i`), e.g. eth0; undefined: any. */
  iface?: string | undefined;
  protocol: Protocol;
  sources: readonly string[];
  destinations: readonly string[];
  srcPorts: readonly number[];
  dstPorts: readonly number[];
}

export type LossMode = { mode: 'random'; probability: number } | { mode: 'nth'; every: number; packet: number };

/** Every kiboko rule carries this comment, so teardown and recovery remove exactly its own. */
export const ruleTag = (runId: string): string => `kiboko:${runId}`;

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\/(\d{1,2}))?$/;

export function validateCidr(value: string, flag: string): string {
  const m = IPV4_CIDR.exec(value.trim());
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || (m[6] !== undefined && Number(m[6]) > 32)) {
    throw invalidArgument(`invalid ${flag} '${value}': expected an IPv4 address or CIDR`, `e.g. ${flag} 10.0.0.5 or ${flag} 10.0.0.0/24`);
  }
  return value.trim();
}

export function validatePort(value: string | number, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw invalidArgument(`invalid ${flag} '${value}': expected a port 1-65535`, `e.g. ${flag} 8080`);
  return n;
}

export function validateInterface(value: string): string {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(value)) {
    throw invalidArgument(`invalid --interface '${value}': not a network interface name`, 'e.g. --interface eth0');
  }
  return value;
}

export function validateFilter(f: PacketFilter): void {
  if ((f.srcPorts.length || f.dstPorts.length) && f.protocol !== 'tcp' && f.protocol !== 'udp') {
    throw invalidArgument('--src-port/--dst-port need --protocol tcp or udp', 'add --protocol tcp (or udp)');
  }
}

export function validateLoss(loss: LossMode): void {
  if (loss.mode === 'random' && !(loss.probability > 0 && loss.probability <= 1)) {
    throw invalidArgument(`invalid --probability '${loss.probability}': expected a number in (0, 1]`, 'e.g. --probability 0.2 for 20% loss, 1 for all packets');
  }
  if (loss.mode === 'nth' && (!Number.isInteger(loss.every) || loss.every < 1 || !Number.isInteger(loss.packet) || loss.packet < 0 || loss.packet >= loss.every)) {
    throw invalidArgument(`invalid --every ${loss.every} / --packet ${loss.packet}`, 'nth mode drops one packet in every N: --every N (≥ 1) with 0 ≤ --packet < N');
  }
}

const orAny = <T>(xs: readonly T[]): (T | undefined)[] => (xs.length ? [...xs] : [undefined]);

/** The match part of each rule: one rule per combination of source, destination and ports. */
function matches(f: PacketFilter): string[][] {
  const out: string[][] = [];
  for (const src of orAny(f.sources))
    for (const dst of orAny(f.destinations))
      for (const sport of orAny(f.srcPorts))
        for (const dport of orAny(f.dstPorts)) {
          const m: string[] = [];
          if (f.iface) m.push('-i', f.iface);
          if (f.protocol !== 'any') m.push('-p', f.protocol);
          if (src) m.push('-s', src);
          if (dst) m.push('-d', dst);
          if (sport !== undefined) m.push('--sport', String(sport));
          if (dport !== undefined) m.push('--dport', String(dport));
          out.push(m);
        }
  return out;
}

/** Pure: the `iptables` argv (without the program name) that adds each loss rule on INPUT. */
export function planIptablesLoss(filter: PacketFilter, loss: LossMode, runId: string): string[][] {
  validateFilter(filter);
  validateLoss(loss);
  const stat =
    loss.mode === 'random'
      ? ['-m', 'statistic', '--mode', 'random', '--probability', String(loss.probability)]
      : ['-m', 'statistic', '--mode', 'nth', '--every', String(loss.every), '--packet', String(loss.packet)];
  return matches(filter).map((m) => ['-I', 'INPUT', ...m, ...stat, '-m', 'comment', '--comment', ruleTag(runId), '-j', 'DROP']);
}

/**
 * Pure: rules that cut the target off from each peer. `both`: every packet either way. One way
 * (chaosd's --direction) keeps replies flowing through conntrack: `from` drops connections the
 * peer opens (NEW from it) while the target's own connections to the peer still work; `to` drops
 * connections the target opens to the peer while the peer's connections still work.
 */
export function planPartition(peers: readonly string[], runId: string, direction: 'to' | 'from' | 'both' = 'both'): string[][] {
  if (peers.length === 0) throw invalidArgument('partition needs at least one --peer', 'name a container or a CIDR: --peer db-1 --peer 10.0.0.0/24');
  const tag = ['-m', 'comment', '--comment', ruleTag(runId), '-j', 'DROP'];
  const fresh = ['-m', 'conntrack', '--ctstate', 'NEW'];
  if (direction === 'from') return peers.map((p) => ['-I', 'INPUT', '-s', p, ...fresh, ...tag]);
  if (direction === 'to') return peers.map((p) => ['-I', 'OUTPUT', '-d', p, ...fresh, ...tag]);
  return peers.flatMap((p) => [
    ['-I', 'INPUT', '-s', p, ...tag],
    ['-I', 'OUTPUT', '-d', p, ...tag],
  ]);
}

/** The delete form of an insert rule (`-I CHAIN …` → `-D CHAIN …`). */
export const deleteRule = (rule: readonly string[]): string[] => {
  const at = rule[0] === '-t' ? 2 : 0; // `-t nat -I …` too
  return rule[at] === '-I' ? [...rule.slice(0, at), '-D', ...rule.slice(at + 1)] : [...rule];
};

/** `iptables-save` output without its timestamps and counters, for before/after comparison. */
export function normalizeSave(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
    .join('\n');
}

const BUILTIN_CHAINS: Record<string, string> = { filter: 'INPUT|FORWARD|OUTPUT', nat: 'PREROUTING|INPUT|OUTPUT|POSTROUTING' };

/** Whether a save holds the table with only its built-in chains, empty, policy ACCEPT. */
export function hasOnlyEmptyTable(save: string, table: 'filter' | 'nat'): boolean {
  const lines = normalizeSave(save).split('\n');
  const start = lines.indexOf(`*${table}`);
  if (start < 0) return false;
  const end = lines.indexOf('COMMIT', start);
  const body = lines.slice(start + 1, end);
  const chain = new RegExp(`^:(${BUILTIN_CHAINS[table]}) ACCEPT \\[0:0\\]$`);
  return body.every((l) => chain.test(l));
}

/** Whether a save holds a `*filter` table with only its built-in chains, empty, policy ACCEPT. */
export const hasOnlyEmptyFilterTable = (save: string): boolean => hasOnlyEmptyTable(save, 'filter');

export const hasTable = (save: string, table: string): boolean => normalizeSave(save).split('\n').includes(`*${table}`);
