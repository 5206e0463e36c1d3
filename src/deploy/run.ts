import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Clock } from '../common/clock.js';
import { KibokoError } from '../common/errors.js';
import { ANNOTATIONS_API, annotationsUnsupported, compareVersions, type Engine } from '../engine/index.js';
import { pullImage } from '../registry/index.js';
import { applyDeploy, type ApplyResult, type DeployEvent } from './apply.js';
import { loadCompose, projectNameHint, type ComposeWarning } from './compose/index.js';
import type { PostDeployTests, SystemConfig } from './model.js';
import { withFileDigests } from './objects.js';
import { observeProject, type EarlyObservation } from './observe.js';
import { markRebuilt, planDeploy, type DeployPlan } from './plan.js';
import { buildServices, type BuildEvent, type BuildMode, type ImageBuilder } from './build.js';
import type { DeployStore } from './store.js';
import { applySwarm, observeSwarm, planSwarm } from './swarm.js';
import { resolveImage } from './tags.js';
import { loadUnitFolder } from './units.js';

const COMPOSE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

export interface LoadOptions {
  projectName?: string | undefined;
  env?: Record<string, string | undefined> | undefined;
  cwd?: string | undefined;
  /** `--env-file` (repeatable): read instead of the project's `.env`. */
  envFiles?: readonly string[] | undefined;
  /** `--profile` (repeatable). */
  profiles?: readonly string[] | undefined;
  /** Hears the loader's warnings (an unset variable, an ignored key). */
  onWarning?: ((warning: ComposeWarning) => void) | undefined;
}

/**
 * Reads a system configuration: compose files (`-f` repeatable), or a folder holding a compose
 * file or fleet-style unit files; without paths, the compose file in the working directory.
 */
export async function loadConfiguration(paths: readonly string[], options: LoadOptions = {}): Promise<SystemConfig> {
  const cwd = options.cwd ?? process.cwd();
  const targets = paths.length ? paths.map((p) => resolve(cwd, p)) : [cwd];
  if (targets.length === 1 && existsSync(targets[0]!) && statSync(targets[0]!).isDirectory()) {
    const dir = targets[0]!;
    // Compose's own discovery (and its override file) when the folder has a compose file.
    if (COMPOSE_NAMES.some((n) => existsSync(join(dir, n)))) return loadCompose([], { ...options, cwd: dir });
    if (readdirSync(dir).some((f) => f.endsWith('.service'))) return loadUnitFolder(dir, { projectName: options.projectName ?? basename(dir), env: options.env });
    throw new KibokoError('INVALID_ARGUMENT', `no configuration in ${dir}: neither ${COMPOSE_NAMES.join(', ')} nor *.service unit files`, {
      hint: 'pass -f compose.yaml, or a folder with a compose file or unit files',
    });
  }
  for (const t of targets) {
    if (!existsSync(t)) throw new KibokoError('INVALID_ARGUMENT', `configuration file ${t} does not exist`, { hint: 'check the -f path' });
  }
  return loadCompose(targets, { ...options, cwd });
}

/**
 * The project `loadConfiguration(paths, options)` most likely names, known before the files are
 * read through (compose/files.ts's projectNameHint); undefined without a file path (a folder, the
 * working directory's compose file). Only a hint: the loaded configuration's name decides.
 */
export function configurationProjectHint(paths: readonly string[], options: Pick<LoadOptions, 'projectName' | 'env' | 'cwd'> = {}): string | undefined {
  if (paths.length === 0) return undefined;
  const first = resolve(options.cwd ?? process.cwd(), paths[0]!);
  try {
    if (!statSync(first).isFile()) return undefined;
  } catch {
    return undefined;
  }
  return projectNameHint(first, options.projectName, options.env ?? process.env);
}

/** Applies tag policies against the images the engine has; returns the config to deploy and why images moved. */
export async function resolveConfiguration(engine: Engine, config: SystemConfig): Promise<{ config: SystemConfig; notes: string[] }> {
  const follows = config.services.some((s) => s.tagPolicy.kind === 'follow-branch');
  const available = follows ? (await engine.listImages()).flatMap((i) => i.tags) : [];
  const notes: string[] = [];
  const services = config.services.map((s) => {
    const r = resolveImage(s, available);
    if (r.cause) notes.push(`${s.name}: ${s.image} → ${r.image} (${r.cause})`);
    return r.image === s.image ? s : { ...s, image: r.image };
  });
  return { config: { ...config, services }, notes };
}

export type EngineMode = 'auto' | 'docker' | 'swarm';

/** Swarm when asked, or (auto) when the engine is a Swarm manager; the single-host engine otherwise. */
export async function useSwarm(engine: Engine, mode: EngineMode = 'auto'): Promise<boolean> {
  if (mode !== 'auto') return mode === 'swarm';
  return engine.isSwarmManager();
}

/**
 * Refuses, before anything changes, what this engine cannot honour on one host: `annotations`
 * before Engine API 1.43 (the engine would drop them silently).
 */
async function checkEngineSupports(engine: Engine, config: SystemConfig): Promise<void> {
  const annotated = config.services.filter((s) => s.annotations && Object.keys(s.annotations).length).map((s) => s.name);
  if (annotated.length === 0) return;
  const { negotiatedApiVersion, endpoint } = await engine.info();
  if (compareVersions(negotiatedApiVersion, ANNOTATIONS_API) < 0) throw annotationsUnsupported(endpoint, negotiatedApiVersion, annotated);
}

/**
 * `early`: the project's containers asked for before the configuration was loaded (observeEarly),
 * used when it names the same project; otherwise it is let finish and the list is asked for again.
 */
export async function planProject(engine: Engine, config: SystemConfig, mode: EngineMode = 'auto', early?: EarlyObservation): Promise<DeployPlan> {
  const reuse = early?.project === config.project && mode !== 'swarm';
  if (early && !reuse) await early.containers.catch(() => undefined); // nothing left running when the plan returns
  // In auto mode the container list is asked for together with the engine's Swarm state (two
  // round trips at once, not one after the other); on a Swarm manager its answer goes unused.
  const containers = mode === 'swarm' ? undefined : reuse ? early!.containers : observeProject(engine, config.project);
  containers?.catch(() => undefined);
  if (await useSwarm(engine, mode)) return planSwarm(config, await observeSwarm(engine, config.project));
  await checkEngineSupports(engine, config);
  return planDeploy(withFileDigests(config), await containers!);
}

/**
 * Images that are needed and not on the engine are pulled (pull_policy `always`: pulled anyway;
 * `never`: must be there); a failed pull stops the deploy before anything changes.
 */
async function ensureImages(engine: Engine, config: SystemConfig, plan: DeployPlan): Promise<void> {
  const services = plan.steps.filter((s) => s.action === 'create' || s.action === 'update' || s.action === 'scale').map((s) => config.services.find((x) => x.name === s.service)!);
  const done = new Set<string>();
  for (const s of services) {
    if (done.has(s.image)) continue;
    done.add(s.image);
    const always = s.pullPolicy === 'always' || typeof s.pullPolicy === 'object';
    if (!always && (await engine.imageExists(s.image))) continue;
    if (s.pullPolicy === 'never' || s.pullPolicy === 'build') {
      throw new KibokoError('INVALID_ARGUMENT', `image ${s.image} of service ${s.name} is not on the engine and pull_policy is ${s.pullPolicy}`, {
        hint: s.build ? 'build it: deploy apply --build' : 'build or load the image on this engine, or change pull_policy',
      });
    }
    try {
      await pullImage(engine, s.image);
    } catch (cause) {
      if (always && (await engine.imageExists(s.image))) continue;
      // The pull's own cause (unauthorized, no such tag, registry down…) keeps its code and exit status.
      const code = cause instanceof KibokoError && cause.code !== 'ENGINE_ERROR' && cause.code !== 'INTERNAL' ? cause.code : 'INVALID_ARGUMENT';
      throw new KibokoError(code, `image ${s.image} is not on the engine and could not be pulled: ${(cause as Error).message}`, {
        cause,
        hint: cause instanceof KibokoError && cause.hint ? cause.hint : 'build or load the image on this engine (docker build / docker load), or fix the tag',
      });
    }
  }
}

/**
 * The tests an apply must pass afterwards (the post-deploy gate): `x-kiboko.post_deploy_tests`,
 * overridden by `deploy apply --require-tests [type]` — `flag` is the type, `true` for the bare
 * flag (the configured type, else integration; the configured timeout is kept) and `false` for
 * `--no-require-tests`, which turns a configured gate off.
 */
export function requiredTests(config: SystemConfig, flag?: string | boolean): PostDeployTests | undefined {
  if (flag === false) return undefined;
  if (flag === undefined) return config.postDeployTests;
  const timeoutMs = config.postDeployTests?.timeoutMs;
  const type = flag === true ? (config.postDeployTests?.type ?? 'integration') : flag;
  return { type, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}

export interface DeployRun {
  revision: number;
  plan: DeployPlan;
  result: ApplyResult;
}

/**
 * One deploy: plan, record the revision (durably, before any change), make sure images exist,
 * apply, and record the outcome. A revision with no changes is still recorded, as `ok`.
 */
export async function deployProject(
  engine: Engine,
  store: DeployStore,
  config: SystemConfig,
  options: {
    trigger: string;
    source: string;
    rollbackOf?: number;
    signal?: AbortSignal;
    clock?: Clock;
    onEvent?: (e: DeployEvent) => void;
    healthTimeoutMs?: number;
    engineMode?: EngineMode;
    /** `build:` services: `--build` (always), `--no-build` (never), default when the image is missing. */
    build?: BuildMode;
    builder?: ImageBuilder;
    onBuildEvent?: (e: BuildEvent) => void;
  },
): Promise<DeployRun> {
  const swarm = await useSwarm(engine, options.engineMode);
  // One engine copies secrets and configs into each container: their content is part of its hash.
  if (!swarm) {
    await checkEngineSupports(engine, config);
    config = withFileDigests(config);
  }
  const built = new Map<string, { image: string; id: string }>();
  await buildServices(engine, config, {
    mode: options.build,
    ...(options.builder ? { builder: options.builder } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onEvent: (e) => {
      if (e.type === 'built') built.set(e.service, { image: e.image, id: e.id });
      options.onBuildEvent?.(e);
    },
  });
  let plan = await planProject(engine, config, swarm ? 'swarm' : 'docker');
  if (built.size && !swarm) {
    const running = new Map<string, string[]>();
    for (const r of await observeProject(engine, config.project)) {
      if (!built.has(r.service)) continue;
      running.set(r.service, [...(running.get(r.service) ?? []), (await engine.inspect(r.id)).imageId]);
    }
    plan = markRebuilt(plan, built, running);
  }
  const revision = store.begin({ project: config.project, trigger: options.trigger, source: options.source, config, plan, rollbackOf: options.rollbackOf });
  try {
    await ensureImages(engine, config, plan);
    // Services with x-kiboko.config follow their dependencies: re-rendered and reloaded as those get new containers.
    const hooks = !swarm && config.services.some((s) => s.templates) ? await dependencyHooksFor(engine, config, options.onEvent) : undefined;
    const result = swarm
      ? await applySwarm(config, plan, revision, { engine, ...(options.clock ? { clock: options.clock } : {}), ...(options.signal ? { signal: options.signal } : {}), ...(options.onEvent ? { onEvent: options.onEvent } : {}) })
      : await applyDeploy(config, plan, revision, {
      engine,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.healthTimeoutMs ? { healthTimeoutMs: options.healthTimeoutMs } : {}),
      ...(hooks ? { hooks } : {}),
    });
    if (hooks && result.outcome !== 'cancelled') await hooks.afterApply(options.signal);
    store.finish(config.project, revision, result.outcome, result);
    return { revision, plan, result };
  } catch (err) {
    store.finish(config.project, revision, 'failed', { error: (err as Error).message });
    throw err;
  }
}

/** Re-deploys an earlier revision's resolved configuration (any revision, not just the last). */
export async function rollbackProject(
  engine: Engine,
  store: DeployStore,
  project: string,
  options: { to?: number | undefined; signal?: AbortSignal; clock?: Clock; onEvent?: (e: DeployEvent) => void; healthTimeoutMs?: number; engineMode?: EngineMode },
): Promise<DeployRun & { target: number }> {
  const latest = store.list(project, 1)[0];
  if (!latest) throw new KibokoError('TARGET_NOT_FOUND', `no deploy history for project ${project}`, { hint: 'list projects with `kiboko deploy history`' });
  const target = options.to !== undefined ? store.get(project, options.to) : store.previousOk(project, store.latestOk(project)?.rev ?? latest.rev);
  if (!target) {
    throw new KibokoError('TARGET_NOT_FOUND', options.to !== undefined ? `project ${project} has no revision ${options.to}` : `project ${project} has no earlier successful revision to roll back to`, {
      hint: `see \`kiboko deploy history --project ${project}\``,
    });
  }
  const run = await deployProject(engine, store, target.config, { trigger: 'rollback', source: `revision ${target.rev}`, rollbackOf: target.rev, ...options });
  return { ...run, target: target.rev };
}

/** The dependency hooks (src/events/deps), loaded only for configurations that use them. */
async function dependencyHooksFor(engine: Engine, config: SystemConfig, onEvent: ((e: DeployEvent) => void) | undefined) {
  const { dependencyHooks } = await import('./deps/hooks.js');
  return dependencyHooks(engine, config, { warn: (message) => onEvent?.({ type: 'warning', at: new Date().toISOString(), message }) });
}
