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
export type { TrafficScope, NetAction, PartitionDirection } from './types.js';
export { validateProxySpec, PROXY_JOURNAL_KIND } from './proxy/hold.js';
export { transparentProxies, setTransparentToxics, setTransparentEnabled, transparentProxyApi } from './proxy/list.js';
export type { ProxyFaultSpec } from './proxy/spec.js';
export { parseOutgoing, planProxyRules, PROXY_GID, type OutgoingTarget } from './proxy/rules.js';
export { ensureProxyImage, agentScriptPath } from './proxy/agent.js';
export {
  parseRate,
  netemArgs,
  planNetem,
  planRateLimit,
  KIBOKO_HANDLE,
  type NetemEffects,
} from './net/tc.js';
export {
  planIptablesLoss,
  planPartition,
  validateFilter,
  validateInterface,
  validateLoss,
  validatePort,
  validateCidr,
  normalizeSave,
  type LossMode,
  type Protocol,
} from './net/iptables.js';
export { probe, requireFeatures, MODULE_OF, type KernelFeature, type ProbeResult } from './net/probe.js';
export { chooseExecMode, openProbe, DEFAULT_HELPER_IMAGE, type ExecMode } from './net/mode.js';
export { execFileResult, type CommandResult } from './net/exec.js';
