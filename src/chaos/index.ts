export type { LifecycleAction, ActionKind, ActionResult, Outcome, ChaosEvent, ChaosEventListener, RestoreResult } from './types.js';
export { planChaos, describeAction, type ChaosPlan, type PlannedStep } from './plan.js';
export {
  runExperiment,
  validateExperiment,
  eligibleStates,
  needsExplicitTargets,
  cycleSeed,
  DEFAULT_CONCURRENCY,
  type ExperimentOptions,
  type ExperimentDeps,
  type ChaosReport,
  type CycleReport,
} from './run.js';
export { recoverOrphans, undoEntry, JOURNAL_KINDS } from './restore.js';
export { createNotifier, type NotifyOptions } from './notify.js';
