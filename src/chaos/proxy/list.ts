import type { Journal, JournalEntry } from '../../journal/index.js';
import type { ProxyJson } from '../../proxy/index.js';
import { PROXY_JOURNAL_KIND, type ProxyEntryView } from './hold.js';

/**
 * The transparent proxies `kiboko chaos proxy` runs right now (open journal entries of the state
 * directory), in toxiproxy's proxy shape, so toxiproxy clients see them beside their own: one per
 * redirected container port (`kiboko:<container>:in:<port>`) and one for the outgoing traffic
 * (`kiboko:<container>:out`). For incoming traffic `listen` is the container's port it was sent to
 * and `upstream` the application behind it; for outgoing traffic `listen` is the proxy's own
 * listener in the container's namespace and `upstream` the destinations (address or CIDR, port;
 * `*` for any).
 */
export async function transparentProxies(journal: Journal): Promise<ProxyJson[]> {
  const { entries } = await journal.list();
  return entries.filter((e) => e.kind === PROXY_JOURNAL_KIND).flatMap(proxiesOf);
}

function proxiesOf(entry: JournalEntry): ProxyJson[] {
  const view = (entry.data as { proxy?: ProxyEntryView }).proxy;
  if (!view) return [];
  const name = entry.target.name;
  const out: ProxyJson[] = Object.keys(view.incoming)
    .sort((a, b) => Number(a) - Number(b))
    .map((port) => ({ name: `kiboko:${name}:in:${port}`, listen: `${name}:${port}`, upstream: `127.0.0.1:${port}`, enabled: true, toxics: view.toxics }));
  if (view.outgoing) {
    const to = view.outgoing.destinations.map((d) => `${d.cidr ?? '*'}:${d.port ?? '*'}`).join(',');
    out.push({ name: `kiboko:${name}:out`, listen: `127.0.0.1:${view.outgoing.agentPort}`, upstream: to, enabled: true, toxics: view.toxics });
  }
  return out;
}
