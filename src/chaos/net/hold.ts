import { KibokoError } from '../../common/errors.js';
import type { ContainerDetails, ContainerRef, Engine } from '../../engine/index.js';
import type { JournalEntry } from '../../journal/index.js';
import { holdUntil } from '../wait.js';
import { JOURNAL_KINDS } from '../journal-kinds.js';
import type { ApplyContext } from '../types.js';
import type { NetAction } from '../types.js';
import { netnsOf } from './exec.js';
import { journalAndApply, preflight, teardownNetFault, type NetFault, type NetFaultRecord, type TeardownResult } from './fault.js';
import { planIptablesLoss, planPartition, validateCidr } from './iptables.js';
import { chooseExecMode, openExec, openProbe, type ExecMode } from './mode.js';
import { requireFeatures, probe, type KernelFeature } from './probe.js';
import { planNetem, planRateLimit, type Scope } from './tc.js';

export const NET_JOURNAL_KIND = JOURNAL_KINDS.net;

/** Journal data of a network fault: target identity, how it was reached, the exact fault. */
export interface NetEntryData {
  startedAt: string;
  pid: number;
  netns: string;
  mode: ExecMode;
  record: NetFaultRecord;
}

/** Resolves `--target`/`--peer` values: CIDRs stay, container names/IDs become their IPv4 addresses. */
export async function resolvePeers(engine: Engine, values: readonly string[], flag: string): Promise<string[]> {
  const out: string[] = [];
  for (const v of values) {
    if (/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(v)) {
      out.push(validateCidr(v, flag));
      continue;
    }
    let details: ContainerDetails;
    try {
      details = await engine.inspect(v);
    } catch (err) {
      if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') {
        throw new KibokoError('TARGET_NOT_FOUND', `${flag} '${v}': no such container, and not an IPv4 address or CIDR`, {
          hint: `name a container (docker ps) or give an address, e.g. ${flag} 10.0.0.5/32`,
        });
      }
      throw err;
    }
    const ips = Object.values(details.networks).map((n) => n.ipAddress).filter(Boolean);
    if (ips.length === 0) throw new KibokoError('INVALID_ARGUMENT', `${flag} '${v}': the container has no IPv4 address (is it running, on a network?)`);
    out.push(...ips);
  }
  return out;
}

/** Kernel features a fault needs, checked before anything is touched. */
export function featuresOf(action: NetAction): KernelFeature[] {
  const scoped = 'scope' in action && (action.scope.targets.length || action.scope.egressPorts.length || action.scope.ingressPorts.length);
  if (action.kind === 'netem') return scoped ? ['prio', 'netem'] : ['netem'];
  if (action.kind === 'rate') return scoped ? ['htb'] : ['tbf'];
  return [];
}

/** Builds the exact kernel-level fault for one run: peers resolved, plans computed. */
export async function buildNetFault(engine: Engine, action: NetAction, runId: string): Promise<NetFault> {
  const scopeOf = async (s: { targets: readonly string[]; egressPorts: readonly number[]; ingressPorts: readonly number[] }): Promise<Scope> => ({
    targets: await resolvePeers(engine, s.targets, '--target'),
    egressPorts: s.egressPorts,
    ingressPorts: s.ingressPorts,
  });
  switch (action.kind) {
    case 'netem':
      return { tool: 'tc', runId, plan: planNetem(action.iface, action.effects, await scopeOf(action.scope)) };
    case 'rate':
      return { tool: 'tc', runId, plan: planRateLimit(action.iface, action.rate, await scopeOf(action.scope)) };
    case 'iptables':
      return {
        tool: 'iptables',
        runId,
        rules: planIptablesLoss(
          {
            iface: action.iface,
            protocol: action.protocol,
            sources: await resolvePeers(engine, action.sources, '--source'),
            destinations: await resolvePeers(engine, action.destinations, '--destination'),
            srcPorts: action.srcPorts,
            dstPorts: action.dstPorts,
          },
          action.loss,
          runId,
        ),
      };
    case 'partition':
      return { tool: 'iptables', runId, rules: planPartition(await resolvePeers(engine, action.peers, '--peer'), runId, action.direction) };
  }
}

/**
 * netem without kernel netem: a pure `netem rate` becomes a tbf/htb limit (with a notice);
 * anything else fails cleanly, naming the missing module, before touching the target.
 */
export async function resolveNetemFallback(engine: Engine, action: NetAction, mode: ExecMode, runId: string, warn: (m: string) => void): Promise<NetAction> {
  if (action.kind !== 'netem') return action;
  const e = action.effects;
  const onlyRate = e.rate && !e.delay && !e.loss && !e.lossState && !e.lossGemodel && !e.duplicate && !e.corrupt;
  if (!onlyRate) return action;
  const p = await openProbe(engine, mode, runId);
  try {
    if ((await probe('netem', p.run)).present) return action;
  } finally {
    await p.close();
  }
  warn('the kernel has no netem (sch_netem): applying `netem rate` as a tbf/htb bandwidth limit instead');
  return { kind: 'rate', durationMs: action.durationMs, iface: action.iface, rate: e.rate!.rate, scope: action.scope, helperImage: action.helperImage };
}

/**
 * A network fault on one target: probe the kernel, check ownership, journal (durably) the exact
 * fault, apply it (rolling back a partial apply), hold it, then remove exactly what was added and
 * verify. No helper container lives during the hold.
 */
export async function holdNetFault(target: ContainerRef, action: NetAction, ctx: ApplyContext): Promise<Record<string, unknown>> {
  const { engine, journal, clock } = ctx;
  const mode = chooseExecMode(engine, action.helperImage);
  const details = await engine.inspect(target.id);
  if (details.pid <= 0) throw new KibokoError('CONFLICT', `${target.name} is not running`);
  const fault = await buildNetFault(engine, action, ctx.runId);
  const deadline = clock.now() + action.durationMs;
  let entry: JournalEntry;
  const exec = await openExec(engine, details, mode, ctx.runId);
  try {
    const record = await preflight(exec, fault);
    const data: NetEntryData = { startedAt: details.startedAt, pid: details.pid, netns: netnsOf(details.pid), mode, record };
    entry = await journalAndApply(journal, exec, record, { runId: ctx.runId, kind: NET_JOURNAL_KIND, target, deadline: new Date(deadline).toISOString(), data: data as unknown as Record<string, unknown> });
  } finally {
    await exec.close();
  }
  ctx.emit({ type: 'fault-held', at: new Date(clock.now()).toISOString(), cycle: ctx.cycle, target, action: action.kind, untilMs: deadline });
  const interrupted = await holdUntil(clock, deadline, ctx.signal);
  const applied = fault.tool === 'tc' ? fault.plan.apply : fault.rules.map((r) => ['iptables', ...r]);
  try {
    const result = await undoNetEntry(engine, entry);
    await journal.close(entry, result.outcome);
    return { interrupted, restore: result.outcome, drift: result.drift, via: mode.via, applied, gone: result.outcome === 'target-gone' };
  } catch (err) {
    const e = err instanceof KibokoError ? err : new KibokoError('ACTION_FAILED', String(err));
    return { interrupted, restore: 'failed', restoreFailed: true, restoreError: `restore of ${target.name} failed: ${e.message}; run \`kiboko chaos recover\``, applied };
  }
}

/**
 * Once per run, before any target is selected or touched: pull the helper image if asked, turn a
 * netem rate into a tbf/htb limit when the kernel has no netem, and fail with the diagnosis when
 * the kernel lacks what the fault needs.
 */
export async function prepareNetAction(engine: Engine, requested: NetAction, runId: string, warn: (message: string) => void, dryRun = false): Promise<NetAction> {
  const mode = chooseExecMode(engine, requested.helperImage);
  // A dry run creates nothing, not even a probe container; nsenter probes touch nothing.
  if (dryRun && mode.via === 'helper') return requested;
  if (requested.pullImage && mode.via === 'helper') await (await import('../../registry/index.js')).pullImage(engine, mode.image);
  const action = await resolveNetemFallback(engine, requested, mode, runId, warn);
  const features = featuresOf(action);
  if (features.length) {
    const p = await openProbe(engine, mode, runId);
    try {
      await requireFeatures(features, p.run);
    } finally {
      await p.close();
    }
  }
  return action;
}

export type NetUndoOutcome = TeardownResult['outcome'] | 'target-gone' | 'target-replaced';

/**
 * Undoes a journaled network fault — after the hold, or in recovery after a crash. A target that
 * stopped or restarted has a new namespace: the fault died with the old one.
 */
export async function undoNetEntry(engine: Engine, entry: JournalEntry): Promise<{ outcome: NetUndoOutcome; drift?: string | undefined }> {
  const data = entry.data as unknown as NetEntryData;
  let now: ContainerDetails;
  try {
    now = await engine.inspect(entry.target.id);
  } catch (err) {
    if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') return { outcome: 'target-gone' };
    throw err;
  }
  if (now.pid <= 0 || now.startedAt !== data.startedAt) return { outcome: 'target-replaced' };
  if (data.mode.via === 'nsenter' && data.netns && netnsOf(now.pid) && netnsOf(now.pid) !== data.netns) return { outcome: 'target-replaced' };
  const mode = data.mode.via === 'nsenter' ? chooseExecMode(engine) : data.mode;
  const exec = await openExec(engine, now, mode, entry.runId);
  try {
    return await teardownNetFault(exec, data.record);
  } finally {
    await exec.close();
  }
}
