import type { EngineEvent } from '../engine/index.js';
import { msToNano } from './time.js';

/**
 * kiboko's own events (deploys, chaos runs) in the engine's event shape, so `kiboko events`
 * shows them beside the engine's and one rule language reacts to both:
 * `{ type: deploy, action: applied|failed|cancelled, id: <project>, attributes: {project, revision, outcome, …} }`,
 * `{ type: chaos, action: started|stopped, id: <run id>, attributes: {action, …} }`.
 */
export interface KibokoEvent extends EngineEvent {
  type: 'deploy' | 'chaos';
}

/** Where kiboko's own events come from: the daemon's bus, or a poller of the deploy history. */
export interface EventBus {
  /** Returns the unsubscribe function. */
  subscribe(listener: (e: KibokoEvent) => void): () => void;
}

/** A minimal in-process bus (the daemon may provide its own with the same `subscribe`). */
export function createEventBus(): EventBus & { publish(e: KibokoEvent): void } {
  const listeners = new Set<(e: KibokoEvent) => void>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    publish(e) {
      for (const l of [...listeners]) {
        try {
          l(e);
        } catch {
          // A listener's failure is its own; the others still hear the event.
        }
      }
    },
  };
}

let lastNano = 0n;

/** A kiboko event stamped now (nanosecond times strictly increase within the process). */
export function kibokoEvent(type: KibokoEvent['type'], action: string, id: string, attributes: Record<string, string>, nowMs = Date.now()): KibokoEvent {
  let nano = BigInt(msToNano(nowMs));
  if (nano <= lastNano) nano = lastNano + 1n;
  lastNano = nano;
  return { type, action, id, attributes, time: Math.floor(nowMs / 1000), timeNano: nano.toString(), scope: 'local' };
}

/**
 * The event a finished deploy revision is: `applied` (ok), `cancelled`, or `failed` for every
 * failed outcome — its `outcome` attribute says which: `failed`, `rolled-back` (an update failed
 * and was rolled back, by kiboko or by Swarm) or `crashed` (the deploying process died). So a
 * rule `on: {type: deploy, event: failed}` sees them all. A rollback the user asked for that
 * worked is `applied` with `trigger=rollback`.
 */
export function deployEvent(
  r: { project: string; rev: number; outcome: string; trigger: string; source: string; rollbackOf?: number | undefined; finishedAt?: string | undefined; result?: unknown },
  nowMs?: number,
): KibokoEvent {
  const services = (r.result as { services?: { outcome?: string }[] } | undefined)?.services ?? [];
  const outcome = r.outcome === 'failed' && services.some((s) => s.outcome === 'rolled-back') ? 'rolled-back' : r.outcome;
  const action = r.outcome === 'ok' ? 'applied' : r.outcome === 'cancelled' ? 'cancelled' : 'failed';
  const at = r.finishedAt ? Date.parse(r.finishedAt) : undefined;
  return kibokoEvent(
    'deploy',
    action,
    r.project,
    {
      name: r.project,
      project: r.project,
      revision: String(r.rev),
      outcome,
      trigger: r.trigger,
      source: r.source,
      ...(r.rollbackOf !== undefined ? { rollbackOf: String(r.rollbackOf) } : {}),
    },
    nowMs ?? (at !== undefined && Number.isFinite(at) ? at : Date.now()),
  );
}

/** The daemon's bus event shape (src/server/bus.ts), as far as the reactor reads it. */
export interface BusEventLike {
  type: string;
  time: string;
  data: Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * The daemon's deploy-job and chaos-experiment events as kiboko events (everything else on the
 * bus — engine events, progress — is not: the reactor reads the engine itself, with its cursor).
 */
export function fromBusEvent(e: BusEventLike): KibokoEvent | undefined {
  const d = e.data;
  const at = Date.parse(e.time);
  const ms = Number.isFinite(at) ? at : undefined;
  if (e.type === 'deploy.job.finished') {
    const status = str(d.status) ?? 'finished';
    const project = str(d.project) ?? '';
    const attributes: Record<string, string> = { name: project, project, status };
    for (const k of ['revision', 'kind', 'job'] as const) if (str(d[k]) !== undefined) attributes[k] = str(d[k])!;
    const error = (d.error as { message?: unknown } | undefined)?.message;
    if (error !== undefined) attributes.error = String(error);
    // Every failed end (failed, rolled-back, rejected) is `failed`; `status` says which.
    const action = status === 'succeeded' ? 'applied' : status === 'cancelled' ? 'cancelled' : 'failed';
    return kibokoEvent('deploy', action, project, { ...attributes, outcome: status }, ms);
  }
  if (e.type === 'chaos.experiment.started' || e.type === 'chaos.experiment.finished') {
    const id = str(d.experiment) ?? '';
    const attributes: Record<string, string> = { name: id, experiment: id };
    for (const k of ['action', 'status', 'runId', 'stoppedBy'] as const) if (str(d[k]) !== undefined) attributes[k] = str(d[k])!;
    return kibokoEvent('chaos', e.type.endsWith('started') ? 'started' : 'stopped', id, attributes, ms);
  }
  return undefined;
}

/** The daemon's bus as a source of kiboko events for a reactor. */
export function busSource(bus: { subscribe(listener: (e: BusEventLike) => void): () => void }): EventBus {
  return {
    subscribe: (listener) =>
      bus.subscribe((e) => {
        const k = fromBusEvent(e);
        if (k) listener(k);
      }),
  };
}

/** A chaos run as events: `started` when it begins, `stopped` when it ends. */
export function chaosEvent(
  e: { type: 'run-started'; runId: string; action: { kind?: string } | unknown; dryRun?: boolean } | { type: 'run-finished'; runId: string; ok: number; failed: number; interrupted: boolean; cycles: number },
  nowMs?: number,
): KibokoEvent {
  if (e.type === 'run-started') {
    const kind = (e.action as { kind?: unknown } | undefined)?.kind;
    return kibokoEvent('chaos', 'started', e.runId, { name: e.runId, runId: e.runId, action: typeof kind === 'string' ? kind : 'chaos', dryRun: String(Boolean(e.dryRun)) }, nowMs);
  }
  return kibokoEvent(
    'chaos',
    'stopped',
    e.runId,
    { name: e.runId, runId: e.runId, ok: String(e.ok), failed: String(e.failed), cycles: String(e.cycles), interrupted: String(e.interrupted) },
    nowMs,
  );
}
