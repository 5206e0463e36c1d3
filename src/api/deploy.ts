/**
 * Declarative deploys from compose files (or fleet-style unit folders): load, plan against what
 * the engine runs, apply as zero-downtime rolling updates with health gates, record every
 * revision in a history, roll back to any earlier one. On a Swarm manager the same configuration
 * is deployed as Swarm services.
 *
 * @example
 * ```ts
 * import { connectEngine } from 'kiboko/engine';
 * import { DeployStore, deployProject, loadConfiguration, planProject } from 'kiboko/deploy';
 *
 * const engine = await connectEngine();
 * const config = await loadConfiguration(['compose.yaml'], { projectName: 'shop' });
 * const plan = await planProject(engine, config);
 * console.log(plan.steps.map((s) => `${s.action} ${s.service}`));
 * const store = new DeployStore('/var/lib/kiboko');
 * const run = await deployProject(engine, store, config, { trigger: 'library', source: 'compose.yaml', onEvent: (e) => console.log(e) });
 * console.log(run.revision, run.result.outcome);
 * ```
 *
 * @module kiboko/deploy
 */
export {
  loadConfiguration,
  resolveConfiguration,
  planProject,
  deployProject,
  rollbackProject,
  useSwarm,
  DeployStore,
  psProject,
  downProject,
  restartProject,
  pullProject,
  loadCompose,
  parseCompose,
  renderConfig,
  formatComposeProblem,
  describeChanges,
  parseTagPolicy,
  formatTagPolicy,
  setTagInComposeFile,
  newService,
  type SystemConfig,
  type ServiceSpec,
  type TagPolicy,
  type UpdateConfig,
  type RollbackConfig,
  type DeployPlan,
  type PlanStep,
  type StepAction,
  type ApplyResult,
  type DeployEvent,
  type ServiceResult,
  type ServiceOutcome,
  type Revision,
  type RevisionOutcome,
  type DeployRun,
  type LoadOptions,
  type EngineMode,
  type ComposeOptions,
  type ComposeWarning,
  type ComposeProblem,
  type PsRow,
  type DownOptions,
  type DownEvent,
  type DownResult,
  type BuildMode,
  type BuildEvent,
  type ImageBuilder,
} from '../deploy/index.js';
