import { systemClock, type Clock } from '../common/clock.js';
import { mapSettled } from '../common/concurrency.js';
import { formatDuration } from '../common/duration.js';
import { asKibokoError, invalidArgument, isAbortError } from '../common/errors.js';
import { randomSeed, randomUUID } from '../common/random.js';
import type { ContainerStatus, Engine } from '../engine/index.js';
import type { Journal } from '../journal/index.js';
import { selectTargets, selectsEverything, type TargetQuery } from '../targets/index.js';
import { applyStep } from './apply.js';
import { planChaos } from './plan.js';
import { recoverOrphans } from './restore.js';
import { isNetAction, type ActionResult, type ChaosEvent, type LifecycleAction, type RestoreResult } from './types.js';
import { VERSION } from '../common/version.js';

export interface ExperimentOptions {
  action: LifecycleAction;
  targets: TargetQuery;
  /** Keep at most N targets per cycle, picked at random (0: all). */
  limit?: number | undefined;
  /** Pick one target per cycle at random. */
  random?: boolean | undefined;
  /** Seed for random picks; drawn and reported when absent. Cycle n uses a seed derived from it. */
  seed?: number | undefined;
  /** Repeat every interval (0/undefined: run once). */
  intervalMs?: number | undefined;
  /** Stop after this many cycles (library use; the CLI runs until cancelled). */
  maxCycles?: number | undefined;
  dryRun?: boolean | undefined;
  /** Report failures and keep going on the next interval instead of stopping. */
  skipError?: boolean | undefined;
  /** Targets acted on at once (default 32). */
  concurrency?: number | undefined;
  /** Restore orphaned journal entries before starting (default true). */
  recover?: boolean | undefined;
}

export interface ExperimentDeps {
  engine: Engine;
  journal: Journal;
  clock?: Clock;
  /** Ctrl-C / SIGTERM: ends held faults early (restoring them) and stops the interval loop. */
  signal?: AbortSignal;
  onEvent?: (event: ChaosEvent) => void;
  /** Called with the report so far after every cycle, so a crash still leaves a report. */
  onReport?: (report: ChaosReport) => void;
}

export interface CycleReport {
  cycle: number;
  seed: number;
  startedAt: string;
  endedAt: string;
  targets: { id: string; name: string }[];
  skipped: { id: string; name: string; reason: string }[];
  unmatched: string[];
  actions: ActionResult[];
  error?: { code: string; message: string } | undefined;
}

export interface ChaosReport {
  tool: 'kiboko';
  version: string;
  runId: string;
  seed: number;
  action: LifecycleAction;
  dryRun: boolean;
  intervalMs: number;
  startedAt: string;
  endedAt: string;
  interrupted: boolean;
  recovery: RestoreResult[];
  cycles: CycleReport[];
  totals: { actions: number; ok: number; failed: number; targetGone: number; restoreFailed: number };
}

export const DEFAULT_CONCURRENCY = 32;

/** Which container states each action may select (Pumba acts on `docker ps`; rm also on stopped ones). */
export function eligibleStates(action: LifecycleAction): ContainerStatus[] {
  switch (action.kind) {
    case 'rm':
      return ['created', 'running', 'paused', 'restarting', 'exited', 'dead'];
    case 'pause':
    case 'exec':
    case 'netem':
    case 'rate':
    case 'iptables':
    case 'partition':
    case 'proxy':
    case 'stress':
      return ['running'];
    default:
      return ['running', 'paused', 'restarting'];
  }
}

/** Destructive actions refuse an empty target list, as Pumba's kill, stop and rm do. */
export const needsExplicitTargets = (action: LifecycleAction): boolean => action.kind === 'kill' || action.kind === 'stop' || action.kind === 'rm';

/** How long a cycle's fault is held, for checking it against the interval. */
export function heldDurationMs(action: LifecycleAction): number {
  if (action.kind === 'pause') return action.durationMs;
  if (action.kind === 'stop' && action.restart) return action.restart.durationMs;
  if ('durationMs' in action) return action.durationMs;
  return 0;
}

export function validateExperiment(options: ExperimentOptions): void {
  if (needsExplicitTargets(options.action) && selectsEverything(options.targets)) {
    throw invalidArgument(
      // Pumba's words first (its scripts and tests look for them), then which command needs what.
      `container name, list of names, or RE2 regex is required: no target given; ${options.action.kind} needs container names, IDs or a re2: pattern`,
      `name the containers, e.g. \`kiboko chaos ${options.action.kind} web-1\` or \`kiboko chaos ${options.action.kind} 're2:^web'\``,
    );
  }
  const held = heldDurationMs(options.action);
  if (options.intervalMs && held >= options.intervalMs) {
    throw invalidArgument(
      `--duration ${formatDuration(held)} must be shorter than --interval ${formatDuration(options.intervalMs)}`,
      'shorten --duration or lengthen --interval so each fault ends before the next cycle',
    );
  }
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) {
    throw invalidArgument(`invalid --limit '${options.limit}': expected a whole number ≥ 0`, 'use --limit 3 (0 means all)');
  }
  if (options.concurrency !== undefined && (!Number.isInteger(options.concurrency) || options.concurrency < 1)) {
    throw invalidArgument(`invalid --concurrency '${options.concurrency}': expected a whole number ≥ 1`, 'use --concurrency 8');
  }
}

/** Derives cycle n's seed from the run seed, so a whole interval run replays from one number. */
export function cycleSeed(seed: number, cycle: number): number {
  if (cycle === 1) return seed >>> 0;
  let h = (seed ^ Math.imul(cycle, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Runs a lifecycle chaos experiment: recover orphans, then per cycle select → plan → apply
 * (bounded concurrency, every target's outcome kept), repeating on the interval until
 * cancelled, `maxCycles`, or a failure without `skipError`.
 */
export async function runExperiment(options: ExperimentOptions, deps: ExperimentDeps): Promise<ChaosReport> {
  validateExperiment(options);
  const clock = deps.clock ?? systemClock;
  const signal = deps.signal ?? new AbortController().signal;
  const emit = (e: ChaosEvent) => deps.onEvent?.(e);
  const iso = () => new Date(clock.now()).toISOString();
  const seed = options.seed ?? randomSeed();
  const dryRun = Boolean(options.dryRun);
  const report: ChaosReport = {
    tool: 'kiboko',
    version: VERSION,
    runId: randomUUID(),
    seed,
    action: options.action,
    dryRun,
    intervalMs: options.intervalMs ?? 0,
    startedAt: iso(),
    endedAt: iso(),
    interrupted: false,
    recovery: [],
    cycles: [],
    totals: { actions: 0, ok: 0, failed: 0, targetGone: 0, restoreFailed: 0 },
  };

  // A network fault is prepared (kernel probe, helper image, peers resolved) only once a cycle has
  // targets: with none, the run says "no containers found" and ends well, as Pumba does, even on
  // a kernel that lacks what the fault needs.
  let ready: LifecycleAction | undefined;
  const prepare = async (): Promise<LifecycleAction> => {
    if (ready) return ready;
    let action = options.action;
    if (isNetAction(action)) {
      action = await (await import('./net/hold.js')).prepareNetAction(deps.engine, action, report.runId, (message) => emit({ type: 'warning', at: iso(), message }), dryRun);
    } else if (action.kind === 'stress' && action.pullImage && action.image) {
      // The registry client is loaded only when an image is pulled: kills and pauses start faster without it.
      await (await import('../registry/index.js')).pullImage(deps.engine, action.image);
    }
    report.action = action;
    return (ready = action);
  };
  const prepared = { ...options, prepare };
  emit({ type: 'run-started', at: report.startedAt, runId: report.runId, seed, action: options.action, dryRun, intervalMs: report.intervalMs });

  if (options.recover ?? true) {
    report.recovery = await recoverOrphans(deps.engine, deps.journal, { dryRun });
    if (report.recovery.length) emit({ type: 'recovery', at: iso(), results: report.recovery, dryRun });
  }

  for (let cycle = 1; !signal.aborted; cycle++) {
    const cycleStart = clock.now();
    const cycleReport = await runCycle(report.runId, cycle, cycleSeed(seed, cycle), prepared, deps, clock, signal, emit);
    report.cycles.push(cycleReport);
    for (const a of cycleReport.actions) {
      report.totals.actions++;
      if (a.outcome === 'ok' || a.outcome === 'dry-run') report.totals.ok++;
      if (a.outcome === 'failed') report.totals.failed++;
      if (a.outcome === 'target-gone') report.totals.targetGone++;
      if (a.detail?.restoreFailed) report.totals.restoreFailed++;
    }
    report.endedAt = iso();
    deps.onReport?.(report);
    const failed = cycleReport.error !== undefined || cycleReport.actions.some((a) => a.outcome === 'failed');
    if (failed && !options.skipError) break;
    if (!options.intervalMs || (options.maxCycles !== undefined && cycle >= options.maxCycles)) break;
    const nextAt = cycleStart + options.intervalMs;
    emit({ type: 'waiting', at: iso(), cycle, untilMs: nextAt });
    try {
      await clock.sleep(Math.max(0, nextAt - clock.now()), signal);
    } catch (err) {
      if (!isAbortError(err)) throw err;
    }
  }
  report.interrupted = signal.aborted;
  report.endedAt = iso();
  deps.onReport?.(report);
  emit({
    type: 'run-finished',
    at: report.endedAt,
    runId: report.runId,
    cycles: report.cycles.length,
    ok: report.totals.ok,
    failed: report.totals.failed,
    interrupted: report.interrupted,
  });
  return report;
}

async function runCycle(
  runId: string,
  cycle: number,
  seed: number,
  options: ExperimentOptions & { prepare: () => Promise<LifecycleAction> },
  deps: ExperimentDeps,
  clock: Clock,
  signal: AbortSignal,
  emit: (e: ChaosEvent) => void,
): Promise<CycleReport> {
  const iso = () => new Date(clock.now()).toISOString();
  const out: CycleReport = { cycle, seed, startedAt: iso(), endedAt: iso(), targets: [], skipped: [], unmatched: [], actions: [] };
  emit({ type: 'cycle-started', at: out.startedAt, cycle });
  try {
    const selection = await selectTargets(deps.engine, options.targets, {
      states: eligibleStates(options.action),
      limit: options.limit,
      random: options.random,
      seed,
      requireExplicit: needsExplicitTargets(options.action),
    });
    let plan = planChaos(selection, options.action);
    if (plan.steps.length > 0) plan = planChaos(selection, await options.prepare());
    out.targets = plan.steps.map((s) => s.target);
    out.skipped = plan.skipped.map((s) => ({ id: s.container.id, name: s.container.name, reason: s.reason }));
    out.unmatched = plan.unmatched;
    if (plan.steps.length === 0) {
      emit({ type: 'no-targets', at: iso(), cycle, unmatched: plan.unmatched });
    } else {
      emit({
        type: 'targets-selected',
        at: iso(),
        cycle,
        seed,
        targets: out.targets,
        skipped: plan.skipped.map((s) => ({ target: { id: s.container.id, name: s.container.name }, reason: s.reason })),
        unmatched: plan.unmatched,
      });
    }
    if (options.dryRun) {
      for (const step of plan.steps) {
        const result: ActionResult = { target: step.target, action: step.action.kind, outcome: 'dry-run', startedAt: iso(), endedAt: iso(), detail: step.restore ? { restore: step.restore } : undefined };
        out.actions.push(result);
        emit({ type: 'action-finished', at: iso(), cycle, result });
      }
    } else {
      const ctx = { engine: deps.engine, journal: deps.journal, clock, runId, cycle, signal, emit };
      const settled = await mapSettled(plan.steps, options.concurrency ?? DEFAULT_CONCURRENCY, async (step) => {
        const result = await applyStep(step, ctx);
        emit({ type: 'action-finished', at: iso(), cycle, result });
        return result;
      });
      for (const s of settled) {
        if (s.ok) out.actions.push(s.value);
        else throw s.error; // applyStep never throws; this is a bug worth surfacing
      }
    }
  } catch (err) {
    const e = asKibokoError(err);
    // Bad input and bugs always stop the run; engine trouble is survivable only when asked to.
    const survivable = e.code !== 'INVALID_ARGUMENT' && e.code !== 'INTERNAL' && e.code !== 'KERNEL_FEATURE_MISSING' && Boolean(options.intervalMs && options.skipError);
    if (!survivable) throw e;
    out.error = { code: e.code, message: e.message };
    emit({ type: 'warning', at: iso(), message: `cycle ${cycle}: ${e.message}`, hint: e.hint });
  }
  out.endedAt = iso();
  const ok = out.actions.filter((a) => a.outcome === 'ok' || a.outcome === 'dry-run').length;
  const failed = out.actions.filter((a) => a.outcome === 'failed').length;
  const gone = out.actions.filter((a) => a.outcome === 'target-gone').length;
  emit({ type: 'cycle-finished', at: out.endedAt, cycle, ok, failed, gone });
  return out;
}
