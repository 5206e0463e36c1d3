import type { Journal, JournalEntry } from '../../journal/index.js';
import { ProxyApiError, type ProxyJson, type Toxic } from '../../proxy/index.js';
import { sendToHold, type HoldControlAddress } from './control.js';
import type { ProxyEntryView } from './hold.js';
import { JOURNAL_KINDS } from '../journal-kinds.js';

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
  return entries
    .filter((e) => e.kind === JOURNAL_KINDS.proxy)
    .flatMap(proxiesOf)
    .map((p) => p.json);
}

/** A listed proxy with the agent listener it stands for and where its holder takes changes. */
interface TransparentProxy {
  json: ProxyJson;
  listener: string;
  control: HoldControlAddress | undefined;
}

function proxiesOf(entry: JournalEntry): TransparentProxy[] {
  const { proxy: view, control } = entry.data as { proxy?: ProxyEntryView; control?: HoldControlAddress };
  if (!view) return [];
  const name = entry.target.name;
  const toxicsOf = (listener: string) => view.toxicsOf?.[listener] ?? view.toxics;
  const enabledOf = (listener: string) => view.enabledOf?.[listener] ?? !view.down;
  const out: TransparentProxy[] = Object.keys(view.incoming)
    .sort((a, b) => Number(a) - Number(b))
    .map((port) => ({
      json: { name: `kiboko:${name}:in:${port}`, listen: `${name}:${port}`, upstream: `127.0.0.1:${port}`, enabled: enabledOf(`incoming-${port}`), toxics: toxicsOf(`incoming-${port}`) },
      listener: `incoming-${port}`,
      control,
    }));
  if (view.outgoing) {
    const to = view.outgoing.destinations.map((d) => `${d.cidr ?? '*'}:${d.port ?? '*'}`).join(',');
    out.push({ json: { name: `kiboko:${name}:out`, listen: `127.0.0.1:${view.outgoing.agentPort}`, upstream: to, enabled: enabledOf('outgoing'), toxics: toxicsOf('outgoing') }, listener: 'outgoing', control });
  }
  return out;
}

/** The listed proxy of that name, with the way to reach its holder; 404 or 409 otherwise. */
async function changeable(journal: Journal, name: string): Promise<TransparentProxy & { control: HoldControlAddress }> {
  const { entries } = await journal.list();
  const found = entries
    .filter((e) => e.kind === JOURNAL_KINDS.proxy)
    .flatMap(proxiesOf)
    .find((p) => p.json.name === name);
  if (!found) throw new ProxyApiError('proxy not found', 404);
  if (!found.control) throw new ProxyApiError(`proxy ${name} was started by an older kiboko that cannot change it while it runs; it ends with its chaos run`, 409);
  return { ...found, control: found.control };
}

/**
 * Replaces the toxics of one transparent proxy while its fault runs: the process holding the
 * fault applies them in the agent and records them. 404 for an unknown name; 409 when the fault
 * was started by a kiboko without this channel or its holder is gone.
 */
export async function setTransparentToxics(journal: Journal, name: string, toxics: Toxic[]): Promise<void> {
  const p = await changeable(journal, name);
  await sendToHold(p.control, { op: 'toxics', proxy: p.listener, toxics });
}

/** toxiproxy's `enabled` of one transparent proxy: disabled, its redirected connections are refused. */
export async function setTransparentEnabled(journal: Journal, name: string, enabled: boolean): Promise<void> {
  const p = await changeable(journal, name);
  await sendToHold(p.control, { op: 'enabled', proxy: p.listener, enabled });
}
