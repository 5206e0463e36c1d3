import { randomBytes } from 'node:crypto';
import { runExperiment, type ChaosEvent, type ChaosReport } from '../chaos/index.js';
import type { Clock } from '../common/clock.js';
import { settlesWithin } from '../common/concurrency.js';
import { asKibokoError, errorSummary, KibokoError, type ErrorSummary } from '../common/errors.js';
import type { Engine } from '../engine/index.js';
import type { Journal } from '../journal/index.js';
import type { EventBus } from './bus.js';
import { parseChaosSpec, type ChaosSpec } from './chaos-spec.js';

export type ExperimentStatus = 'running' | 'finished' | 'stopped' | 'failed';

interface Experiment {
  id: string;
  spec: ChaosSpec;
  status: ExperimentStatus;
  startedAt: string;
  endedAt?: string | undefined;
  stoppedBy?: 'api' | 'shutdown' | undefined;
  /** The chaos run's id (its journal entries carry it), known once the run has started. */
  runId?: string | undefined;
  report?: ChaosReport | undefined;
  error?: ErrorSummary | undefined;
  events: ChaosEvent[];
  abort: AbortController;
  done: Promise<void>;
}

export interface ChaosServiceOptions {
  engine: Engine;
  journal: Journal;
  bus?: EventBus | undefined;
  clock?: Clock | undefined;
  /** Experiments running at once (default 16). */
  maxRunning?: number | undefined;
  /** Finished experiments kept for GET (default 200). */
  keep?: number | undefined;
  /** How long DELETE waits for a stopped experiment's restores before it answers 504 (default 15 s). */
  stopTimeoutMs?: number | undefined;
}

const MAX_EVENTS = 500;

/**
 * Chaos experiments run by the daemon, in-process, with the chaos library and the restore
 * journal — so what a crashed daemon left behind is restored by the next run, as the CLI's is.
 * Each experiment is a handle: DELETE (or SIGTERM) ends its held faults early and restores them.
 */
export class ChaosService {
  private readonly experiments = new Map<string, Experiment>();

  constructor(private readonly o: ChaosServiceOptions) {}

  get running(): number {
    return [...this.experiments.values()].filter((e) => e.status === 'running').length;
  }

  /** Validates the spec, starts the experiment and resolves once it has started (or failed to). */
  async start(body: unknown): Promise<ReturnType<typeof view>> {
    const { spec, options } = parseChaosSpec(body);
    if (this.running >= (this.o.maxRunning ?? 16)) throw new KibokoError('CONFLICT', `${this.running} experiments are running already`, { hint: 'stop one first (DELETE /v1/chaos/experiments/ID)' });
    const abort = new AbortController();
    const x: Experiment = { id: `cx_${randomBytes(8).toString('hex')}`, spec, status: 'running', startedAt: new Date().toISOString(), events: [], abort, done: Promise.resolve() };
    let started!: () => void;
    const startedP = new Promise<void>((r) => (started = r));
    const publish = (type: string, data: Record<string, unknown> = {}) => this.o.bus?.publish(type, { experiment: x.id, action: spec.action, status: x.status, ...data });
    x.done = runExperiment(options, {
      engine: this.o.engine,
      journal: this.o.journal,
      signal: abort.signal,
      ...(this.o.clock ? { clock: this.o.clock } : {}),
      onEvent: (e) => {
        if (x.events.length < MAX_EVENTS) x.events.push(e);
        if (e.type === 'run-started') {
          x.runId = e.runId;
          this.experiments.set(x.id, x);
          this.evict();
          publish('chaos.experiment.started', { spec, runId: e.runId, seed: e.seed });
          started();
        } else publish(`chaos.${e.type}`, { event: e });
      },
      onReport: (r) => (x.report = structuredClone(r)),
    }).then(
      (report) => {
        x.report = report;
        x.status = report.interrupted ? 'stopped' : report.totals.failed > 0 || report.totals.restoreFailed > 0 ? 'failed' : 'finished';
      },
      (err: unknown) => {
        const e = asKibokoError(err);
        x.error = errorSummary(e);
        x.status = 'failed';
      },
    ).finally(() => {
      x.endedAt = new Date().toISOString();
      if (this.experiments.has(x.id)) publish('chaos.experiment.finished', { totals: x.report?.totals, error: x.error, stoppedBy: x.stoppedBy });
      started();
    });
    await startedP;
    // Refused before anything started (e.g. a kernel feature missing): answered as an error.
    if (!this.experiments.has(x.id)) throw new KibokoError((x.error?.code ?? 'INTERNAL') as KibokoError['code'], x.error?.message ?? 'the experiment did not start', { hint: x.error?.hint });
    return view(x);
  }

  private evict() {
    const keep = this.o.keep ?? 200;
    for (const [id, x] of this.experiments) {
      if (this.experiments.size <= keep) break;
      if (x.status !== 'running') this.experiments.delete(id);
    }
  }

  list() {
    return [...this.experiments.values()].reverse().map((x) => view(x, false));
  }

  /** The restore journal the experiments write to (the dashboard reads CLI runs from it too). */
  get journal(): Journal {
    return this.o.journal;
  }

  /** The id of the experiment whose chaos run is `runId`, if this daemon runs (or ran) it. */
  experimentOfRun(runId: string): string | undefined {
    for (const x of this.experiments.values()) if (x.runId === runId) return x.id;
    return undefined;
  }

  get(id: string) {
    return view(this.find(id));
  }

  private find(id: string): Experiment {
    const x = this.experiments.get(id);
    if (!x) throw new KibokoError('TARGET_NOT_FOUND', `no experiment ${JSON.stringify(id.slice(0, 80))}`, { hint: 'list them with GET /v1/chaos/experiments' });
    return x;
  }

  /**
   * Ends the experiment (held faults are restored at once) and resolves with its final report.
   * Through the API the wait is bounded (`stopTimeoutMs`): an engine that never answers the
   * restore is a 504 that says so, not a request that hangs; the run goes on restoring, and GET
   * shows when it has.
   */
  async stop(id: string, by: 'api' | 'shutdown' = 'api') {
    const x = this.find(id);
    if (x.status === 'running') {
      x.stoppedBy = by;
      x.abort.abort();
      if (by === 'shutdown') await x.done;
      else if (!(await settlesWithin(x.done, this.o.stopTimeoutMs ?? 15_000))) {
        throw new KibokoError('TIMEOUT', `experiment ${x.id} is stopping, but its restore has not finished after ${Math.round((this.o.stopTimeoutMs ?? 15_000) / 1000)} s`, {
          hint: `the engine is slow to answer or stuck; GET /v1/chaos/experiments/${x.id} shows when it ends`,
        });
      }
    }
    return view(x);
  }

  /** SIGTERM: stop every running experiment and wait for the restores. */
  async close(): Promise<void> {
    await Promise.all([...this.experiments.values()].filter((x) => x.status === 'running').map((x) => this.stop(x.id, 'shutdown')));
  }
}

/** The JSON shape of an experiment (`GET /v1/chaos/experiments[/ID]`). */
function view(x: Experiment, withEvents = true) {
  return {
    id: x.id,
    action: x.spec.action,
    targets: x.spec.targets ?? [],
    labels: x.spec.labels ?? [],
    spec: x.spec,
    status: x.status,
    startedAt: x.startedAt,
    endedAt: x.endedAt,
    ...(x.stoppedBy ? { stoppedBy: x.stoppedBy } : {}),
    runId: x.runId ?? x.report?.runId,
    seed: x.report?.seed,
    totals: x.report?.totals,
    report: x.report,
    error: x.error,
    ...(withEvents ? { events: x.events } : {}),
    links: { self: `/v1/chaos/experiments/${x.id}` },
  };
}
