/**
 * Chaos experiments on Docker containers: pick targets, plan, apply a fault (kill, stop, pause,
 * rm, network delay/loss/rate/partition, stress, proxy faults), hold it and restore it — on
 * success, failure, abort and, through the journal, after a crash.
 *
 * @example
 * ```ts
 * import { connectEngine } from 'kiboko/engine';
 * import { Journal, parseTargetArgs, runExperiment } from 'kiboko/chaos';
 *
 * const engine = await connectEngine();
 * const report = await runExperiment(
 *   { action: { kind: 'pause', durationMs: 5_000 }, targets: parseTargetArgs(['re2:^web-'], []), random: true, seed: 42 },
 *   { engine, journal: new Journal(), signal: AbortSignal.timeout(60_000) },
 * );
 * console.log(report.totals.ok);
 * ```
 *
 * @module kiboko/chaos
 */
export {
  runExperiment,
  validateExperiment,
  planChaos,
  describeAction,
  recoverOrphans,
  createNotifier,
  validateProxySpec,
  DEFAULT_CONCURRENCY,
  type ExperimentOptions,
  type ExperimentDeps,
  type ChaosReport,
  type CycleReport,
  type ChaosPlan,
  type PlannedStep,
  type LifecycleAction,
  type ActionKind,
  type ActionResult,
  type Outcome,
  type ChaosEvent,
  type ChaosEventListener,
  type RestoreResult,
  type NotifyOptions,
  type TrafficScope,
  type NetAction,
  type PartitionDirection,
  type ProxyFaultSpec,
} from '../chaos/index.js';
export { parseTargetArgs, parseLabelFilters, selectTargets, planSelection, type TargetQuery, type Selection, type SelectionOptions } from '../targets/index.js';
export { Journal, defaultStateDir, type JournalEntry } from '../journal/index.js';
