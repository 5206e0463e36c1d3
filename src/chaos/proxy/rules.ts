import { invalidArgument } from '../../common/errors.js';
import { ruleTag, validateCidr, validatePort } from '../net/iptables.js';

/**
 * The group the proxy agent runs as. Its own upstream connections carry it, and the outgoing
 * REDIRECT rules skip it (`-m owner ! --gid-owner`), so the proxy never proxies itself.
 */
export const PROXY_GID = 47474;

/** An outgoing destination: an address, CIDR or container name, and/or a port. */
export interface OutgoingTarget {
  host?: string | undefined;
  port?: number | undefined;
}

/** `db:5432`, `10.0.0.0/24`, `10.0.0.5:80`, `:5432` (any address), `db` (every port). */
export function parseOutgoing(value: string): OutgoingTarget {
  const v = value.trim();
  const m = /^([^:]*)(?::(\d+))?$/.exec(v);
  if (!m || (!m[1] && !m[2])) throw invalidArgument(`invalid --to '${value}': expected HOST[:PORT] or :PORT`, 'e.g. --to db:5432, --to 10.0.0.0/24:443 or --to :5432');
  const host = m[1] || undefined;
  if (host && /^[\d./]+$/.test(host)) validateCidr(host, '--to');
  if (host && !/^[\d./]+$/.test(host) && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(host)) throw invalidArgument(`invalid --to '${value}': '${host}' is not an address, CIDR or container name`, 'e.g. --to db:5432');
  return { host, port: m[2] ? validatePort(m[2], '--to') : undefined };
}

const tagged = (runId: string) => ['-m', 'comment', '--comment', ruleTag(runId)];

/**
 * Pure: the nat rules that send traffic through the agent — incoming connections to the
 * container's ports (PREROUTING), and outgoing connections to the resolved destinations (OUTPUT,
 * the agent's own group excluded). Each carries kiboko's comment for exact teardown.
 */
export function planProxyRules(
  input: { incoming: Record<string, number>; outgoing?: { destinations: { cidr?: string | undefined; port?: number | undefined }[]; agentPort: number } | undefined },
  runId: string,
): string[][] {
  const rules: string[][] = [];
  for (const [port, agentPort] of Object.entries(input.incoming)) {
    rules.push(['-t', 'nat', '-I', 'PREROUTING', '-p', 'tcp', '--dport', port, ...tagged(runId), '-j', 'REDIRECT', '--to-ports', String(agentPort)]);
  }
  if (input.outgoing) {
    for (const d of input.outgoing.destinations) {
      rules.push([
        '-t', 'nat', '-I', 'OUTPUT', '-p', 'tcp',
        ...(d.cidr ? ['-d', d.cidr] : []),
        ...(d.port ? ['--dport', String(d.port)] : []),
        '-m', 'owner', '!', '--gid-owner', String(PROXY_GID),
        ...tagged(runId), '-j', 'REDIRECT', '--to-ports', String(input.outgoing.agentPort),
      ]);
    }
  }
  return rules;
}
