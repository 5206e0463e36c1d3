import { KibokoError } from '../../common/errors.js';
import type { ContainerDetails, ContainerRef, Engine } from '../../engine/index.js';
import type { Journal, JournalEntry } from '../../journal/index.js';
import type { AgentConfig, Toxic } from '../../proxy/index.js';
import type { ApplyContext } from '../types.js';
import { netnsOf } from '../net/exec.js';
import { deleteRule } from '../net/iptables.js';
import { journalAndApply, preflight, teardownNetFault, type NetFaultRecord } from '../net/fault.js';
import { resolvePeers } from '../net/hold.js';
import { chooseExecMode, openExec, type ExecMode } from '../net/mode.js';
import { holdUntil } from '../wait.js';
import { JOURNAL_KINDS } from '../journal-kinds.js';
import { startHoldControl, type HoldCommand, type HoldControl, type HoldControlAddress } from './control.js';
import { startHelperAgent, startNsenterAgent, stopAgent, type AgentHandle, type AgentIdentity } from './agent.js';
import { planProxyRules, type OutgoingTarget } from './rules.js';
import { validateProxySpec, type ProxyFaultSpec } from './spec.js';

export const PROXY_JOURNAL_KIND = JOURNAL_KINDS.proxy;

interface ProxyEntryData {
  startedAt: string;
  pid: number;
  netns: string;
  /** How iptables reaches the namespace. */
  mode: ExecMode;
  record: NetFaultRecord;
  agent: AgentIdentity;
  /** What the proxy does, for the toxiproxy API's listing (entries written before it lack it). */
  proxy?: ProxyEntryView | undefined;
  /** Where the holding process takes toxics changes (see control.ts; older entries lack it). */
  control?: HoldControlAddress | undefined;
}

/** The part of a proxy fault the toxiproxy API lists (see transparentProxies). */
export interface ProxyEntryView {
  /** Container port → the agent's listener for it. */
  incoming: Record<string, number>;
  /** Outgoing destinations (resolved addresses, ports) and the agent's listener for them. */
  outgoing: { destinations: { cidr?: string | undefined; port?: number | undefined }[]; agentPort: number } | undefined;
  toxics: Toxic[];
  /** Toxics changed while running, by the agent's listener (`incoming-<port>`, `outgoing`). */
  toxicsOf?: Record<string, Toxic[]> | undefined;
  /** Started down (`--toxic down`): every listener refuses connections. */
  down?: boolean | undefined;
  /** toxiproxy's `enabled` changed while running, by listener. */
  enabledOf?: Record<string, boolean> | undefined;
  httpFaults: number;
}


async function resolveOutgoing(engine: Engine, outgoing: readonly OutgoingTarget[]): Promise<{ cidr?: string | undefined; port?: number | undefined }[]> {
  const out: { cidr?: string | undefined; port?: number | undefined }[] = [];
  for (const o of outgoing) {
    if (!o.host) out.push({ port: o.port });
    else for (const ip of await resolvePeers(engine, [o.host], '--to')) out.push({ cidr: ip, port: o.port });
  }
  return out;
}

/**
 * Starts the proxy agent in the target's namespace, journals (durably) the agent and the exact
 * redirect rules, applies them, holds, then removes the rules and stops the agent. A failure on
 * the way undoes what was done.
 */
export async function holdProxyFault(target: ContainerRef, action: ProxyFaultSpec & { durationMs: number; helperImage?: string | undefined }, ctx: ApplyContext): Promise<Record<string, unknown>> {
  const { engine, journal, clock } = ctx;
  validateProxySpec(action);
  const details = await engine.inspect(target.id);
  if (details.pid <= 0) throw new KibokoError('CONFLICT', `${target.name} is not running`);
  const destinations = await resolveOutgoing(engine, action.outgoing);
  const mode = chooseExecMode(engine, action.helperImage);
  const deadline = clock.now() + action.durationMs;
  const useHelper = mode.via === 'helper' || Boolean(action.proxyImage) || Boolean(action.helper);
  const config: AgentConfig = {
    incoming: [...action.incomingPorts],
    outgoing: destinations.length > 0,
    toxics: [...action.toxics],
    httpFaults: [...action.httpFaults],
    down: action.down,
    // An nsenter agent removes the rules itself when it exits; a helper agent cannot (no iptables in
    // its image), so it stays until kiboko, `chaos recover` or the next chaos run removes both —
    // leaving it to exit on its own would turn a delay into refused connections.
    exitAt: useHelper ? undefined : deadline + 60_000,
  };
  const agent: AgentHandle = useHelper ? await startHelperAgent(engine, target, config, ctx.runId, action.proxyImage) : await startNsenterAgent(details.pid, config);
  let entry: JournalEntry | undefined;
  const rules = planProxyRules({ incoming: agent.ready.incoming, outgoing: agent.ready.outgoing ? { destinations, agentPort: agent.ready.outgoing } : undefined }, ctx.runId);
  let control: HoldControl | undefined;
  try {
    control = await startHoldControl((command) => applyHoldCommand(command, agent, entry, journal));
    const exec = await openExec(engine, details, mode, ctx.runId);
    try {
      const record = await preflight(exec, { tool: 'iptables', runId: ctx.runId, rules });
      const view: ProxyEntryView = {
        incoming: { ...agent.ready.incoming },
        outgoing: agent.ready.outgoing ? { destinations, agentPort: agent.ready.outgoing } : undefined,
        toxics: [...action.toxics],
        httpFaults: action.httpFaults.length,
        down: action.down,
      };
      const data: ProxyEntryData = { startedAt: details.startedAt, pid: details.pid, netns: netnsOf(details.pid), mode, record, agent: agent.identity, proxy: view, control: control.address };
      const newEntry = { runId: ctx.runId, kind: PROXY_JOURNAL_KIND, target, deadline: new Date(deadline).toISOString(), data: data as unknown as Record<string, unknown> };
      // A dead man's switch (nsenter agents): if kiboko dies, the agent removes the rules as it exits.
      entry = await journalAndApply(journal, exec, record, newEntry, () => agent.send?.({ op: 'cleanup', argv: rules.map((r) => deleteRule(r)) }));
    } finally {
      await exec.close();
    }
  } catch (err) {
    await control?.close();
    await agent.stop();
    throw err;
  }
  return finishProxyFault(target, entry, agent, control, rules, deadline, ctx);
}

/** Holds an applied proxy fault until its end, then removes its rules and its agent. */
async function finishProxyFault(target: ContainerRef, entry: JournalEntry, agent: AgentHandle, control: HoldControl, rules: string[][], deadline: number, ctx: ApplyContext): Promise<Record<string, unknown>> {
  const { engine, journal, clock } = ctx;
  ctx.emit({ type: 'fault-held', at: new Date(clock.now()).toISOString(), cycle: ctx.cycle, target, action: 'proxy', untilMs: deadline });
  const interrupted = await holdUntil(clock, deadline, ctx.signal);
  const summary = { via: agent.identity.via, ports: agent.ready, applied: rules.map((r) => ['iptables', ...r]) };
  await control.close();
  try {
    agent.send?.({ op: 'cleanup', argv: [] });
    const result = await undoProxyEntry(engine, entry);
    await agent.stop();
    await journal.close(entry, result.outcome);
    return { interrupted, restore: result.outcome, drift: result.drift, ...summary, gone: result.outcome === 'target-gone' };
  } catch (err) {
    await agent.stop();
    const e = err instanceof KibokoError ? err : new KibokoError('ACTION_FAILED', String(err));
    return { interrupted, restore: 'failed', restoreFailed: true, restoreError: `restore of ${target.name} failed: ${e.message}; run \`kiboko chaos recover\``, ...summary };
  }
}

/**
 * A change from a toxiproxy API server (control.ts): the agent applies it first, then the journal
 * entry records it, so the API's listing shows what the proxy does.
 */
export async function applyHoldCommand(command: HoldCommand, agent: Pick<AgentHandle, 'request'>, entry: JournalEntry | undefined, journal: Journal): Promise<void> {
  const data = entry?.data as unknown as ProxyEntryData | undefined;
  if (!entry || !data?.proxy) throw new Error('the fault is not applied yet');
  const known = command.proxy === 'outgoing' ? data.proxy.outgoing !== undefined : command.proxy.slice('incoming-'.length) in data.proxy.incoming;
  if (!known) throw new Error(`this fault has no listener ${command.proxy}`);
  await agent.request({ ...command });
  if (command.op === 'toxics') data.proxy.toxicsOf = { ...data.proxy.toxicsOf, [command.proxy]: command.toxics };
  else data.proxy.enabledOf = { ...data.proxy.enabledOf, [command.proxy]: command.enabled };
  await journal.update(entry);
}

/**
 * Undoes a journaled proxy fault: removes exactly its redirect rules, then stops exactly its
 * agent (process or helper container). A target that restarted lost the rules with its namespace.
 */
export async function undoProxyEntry(engine: Engine, entry: JournalEntry): Promise<{ outcome: 'restored' | 'already-restored' | 'target-gone' | 'target-replaced'; drift?: string | undefined }> {
  const data = entry.data as unknown as ProxyEntryData;
  const agentStopped = () => stopAgent(engine, data.agent).catch(() => 'gone' as const);
  let now: ContainerDetails;
  try {
    now = await engine.inspect(entry.target.id);
  } catch (err) {
    if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') {
      await agentStopped();
      return { outcome: 'target-gone' };
    }
    throw err;
  }
  if (now.pid <= 0 || now.startedAt !== data.startedAt || (data.netns && netnsOf(now.pid) && netnsOf(now.pid) !== data.netns)) {
    await agentStopped();
    return { outcome: 'target-replaced' };
  }
  const mode = data.mode.via === 'nsenter' ? chooseExecMode(engine) : data.mode;
  const exec = await openExec(engine, now, mode, entry.runId);
  let result;
  try {
    result = await teardownNetFault(exec, data.record);
  } finally {
    await exec.close();
  }
  const agent = await agentStopped();
  return { outcome: result.outcome === 'already-restored' && agent === 'stopped' ? 'restored' : result.outcome, drift: result.drift };
}
