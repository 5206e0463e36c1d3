import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { validateHttpFault, type HttpFault } from './http.js';
import { FaultProxy, type HostPort } from './proxy.js';
import { parseToxic } from './toxics.js';

/**
 * The transparent proxy kiboko runs inside a container's network namespace (by nsenter, or in a
 * helper container sharing it). iptables REDIRECT rules send the chosen traffic to its listeners:
 * one per incoming container port (upstream: the same port on the address the client reached),
 * and one for redirected outgoing traffic (upstream: the connection's original destination, read
 * from conntrack). It never binds the container's own ports.
 */
export interface AgentConfig {
  /** Container ports whose incoming connections are proxied. */
  incoming: number[];
  /** Whether outgoing connections are redirected to this agent. */
  outgoing: boolean;
  /** Toxic bodies (toxiproxy JSON). */
  toxics: unknown[];
  httpFaults: HttpFault[];
  /** Start with every listener down (toxiproxy's `enabled: false`): connections are refused. */
  down?: boolean | undefined;
  /** Epoch ms after which the agent exits by itself (a dead man's switch if kiboko dies). */
  exitAt?: number | undefined;
}

export interface AgentReady {
  event: 'ready';
  /** Container port → agent listener port. */
  incoming: Record<string, number>;
  outgoing?: number | undefined;
}

export interface RunningAgent {
  ready: AgentReady;
  proxies: FaultProxy[];
  /** Replaces the toxics of every listener, or of one (`incoming-<port>`, `outgoing`). */
  setToxics(toxics: unknown[], proxy?: string): void;
  setHttpFaults(faults: HttpFault[]): void;
  /**
   * toxiproxy's `enabled` for every listener, or one: a disabled listener stops listening, so the
   * redirected connections are refused (and open ones dropped); enabled again, it listens on the
   * same port the redirect rules name.
   */
  setEnabled(enabled: boolean, proxy?: string): Promise<void>;
  close(): Promise<void>;
}

/** Where a detached agent (in a helper container) takes commands: the helper's own file system. */
export const AGENT_CONTROL_SOCKET = '/kiboko/control.sock';

const hex = (n: number) => n.toString(16);

/** Parses /proc/net/nf_conntrack for the original destination of a REDIRECTed connection. */
export function originalDestination(conntrack: string, client: { address: string; port: number }, listenPort: number): HostPort | undefined {
  for (const line of conntrack.split('\n')) {
    if (!line.includes(' tcp ')) continue;
    const fields = [...line.matchAll(/\b(src|dst|sport|dport)=(\S+)/g)].map((m) => [m[1]!, m[2]!] as const);
    if (fields.length < 8) continue;
    const [o, r] = [Object.fromEntries(fields.slice(0, 4)), Object.fromEntries(fields.slice(4, 8))];
    if (o.src === client.address && Number(o.sport) === client.port && Number(r.sport) === listenPort) return { host: o.dst!, port: Number(o.dport) };
  }
  return undefined;
}

const plain = (addr: string | undefined) => (addr ?? '').replace(/^::ffff:/, '');

/** Every listener, or the one named (`incoming-<port>`, `outgoing`). */
function listeners(proxies: FaultProxy[], name: string | undefined): FaultProxy[] {
  const chosen = name === undefined ? proxies : proxies.filter((p) => p.name === name);
  if (chosen.length === 0) throw new Error(`no listener named ${name} (listeners: ${proxies.map((p) => p.name).join(', ')})`);
  return chosen;
}

export async function startAgent(config: AgentConfig, conntrackPath = '/proc/net/nf_conntrack'): Promise<RunningAgent> {
  for (const f of config.httpFaults) validateHttpFault(f);
  const toxics = config.toxics.map((t) => parseToxic(t));
  const proxies: FaultProxy[] = [];
  const ready: AgentReady = { event: 'ready', incoming: {} };
  try {
    for (const port of config.incoming) {
      const p = new FaultProxy(
        { name: `incoming-${port}`, listen: '0.0.0.0:0', upstream: `container:${port}` },
        { resolveUpstream: (client: Socket) => ({ host: plain(client.localAddress), port }) },
      );
      await p.start();
      proxies.push(p);
      ready.incoming[String(port)] = Number(p.listen.split(':').pop());
    }
    if (config.outgoing) {
      readFileSync(conntrackPath, 'utf8'); // fails now, clearly, rather than on the first connection
      let listenPort = 0;
      const p = new FaultProxy(
        { name: 'outgoing', listen: '0.0.0.0:0', upstream: 'original-destination' },
        {
          resolveUpstream: (client: Socket) => {
            const dst = originalDestination(readFileSync(conntrackPath, 'utf8'), { address: plain(client.remoteAddress), port: client.remotePort ?? 0 }, listenPort);
            if (!dst) throw new Error(`no conntrack entry for ${client.remoteAddress}:${client.remotePort} (port ${hex(listenPort)})`);
            return dst;
          },
        },
      );
      await p.start();
      listenPort = Number(p.listen.split(':').pop());
      proxies.push(p);
      ready.outgoing = listenPort;
    }
  } catch (err) {
    for (const p of proxies) await p.stop();
    throw err;
  }
  const agent: RunningAgent = {
    ready,
    proxies,
    setToxics(list, proxy) {
      const parsed = list.map((t) => parseToxic(t));
      for (const p of listeners(proxies, proxy)) {
        p.resetToxics();
        for (const t of parsed) p.addToxic(t);
      }
    },
    setHttpFaults(faults) {
      for (const f of faults) validateHttpFault(f);
      for (const p of proxies) p.setHttpFaults(faults);
    },
    async setEnabled(enabled, proxy) {
      for (const p of listeners(proxies, proxy)) await p.update({ enabled });
    },
    close: async () => {
      for (const p of proxies) await p.stop();
    },
  };
  agent.setToxics(toxics);
  agent.setHttpFaults(config.httpFaults);
  if (config.down) await agent.setEnabled(false);
  return agent;
}
