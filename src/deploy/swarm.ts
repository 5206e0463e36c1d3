import { systemClock, type Clock } from '../common/clock.js';
import { asKibokoError, KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import type { Engine, SwarmRestartPolicy, SwarmService, SwarmServiceDefinition } from '../engine/index.js';
import type { ApplyResult, DeployEvent, ServiceResult } from './apply.js';
import { createHash } from 'node:crypto';
import { COMPOSE_LABELS } from '../common/labels.js';
import { networkName, serviceNetworks, volumeName, type ProjectNames } from './containers.js';
import { fileObjectData, projectNetworkKeys } from './objects.js';
import type { SwarmFileRef } from '../engine/index.js';
import { canonicalJson, configHash, containerConfig, describeChanges, type ContainerConfig } from './hash.js';
import type { ServiceSpec, SystemConfig } from './model.js';
import { dependencyOrder, type DeployPlan, type PlanStep } from './plan.js';

/** `docker stack deploy`'s namespace label, so `docker stack ls/ps` shows kiboko's projects too. */
const STACK_LABEL = 'com.docker.stack.namespace';

export const swarmServiceName = (project: string, service: string): string => `${project}_${service}`;
export const swarmNetwork = (project: string): string => `${project}_default`;

/** Swarm objects (secrets, configs) by key of the file, as created or found for this deploy. */
export type SwarmObjects = { secrets: ReadonlyMap<string, { id: string; name: string }>; configs: ReadonlyMap<string, { id: string; name: string }> };

const NO_OBJECTS: SwarmObjects = { secrets: new Map(), configs: new Map() };

function fileRefs(kind: 'secret' | 'config', refs: ServiceSpec['secrets'], objects: ReadonlyMap<string, { id: string; name: string }>): SwarmFileRef[] | undefined {
  if (!refs?.length) return undefined;
  return refs.map((r) => {
    const o = objects.get(r.source);
    if (!o) throw new KibokoError('INVALID_ARGUMENT', `${kind} ${r.source} is not defined at the top level`, { hint: `add it under ${kind}s:` });
    // Swarm places a secret named by its file name under /run/secrets.
    const target = kind === 'secret' && r.target.startsWith('/run/secrets/') ? r.target.slice('/run/secrets/'.length) : r.target;
    return { id: o.id, name: o.name, target, uid: r.uid ?? '0', gid: r.gid ?? '0', mode: r.mode ?? 0o444 };
  });
}

/** A service of the configuration as a Swarm service: update_config and rollback_config mapped 1:1, deploy.* and the container keys Swarm honours. */
export function toSwarmDefinition(project: string | ProjectNames, s: ServiceSpec, revision: number, objects: SwarmObjects = NO_OBJECTS): SwarmServiceDefinition {
  const names: ProjectNames = typeof project === 'string' ? { project, sources: [] } : project;
  project = names.project;
  const cfg = containerConfig(s);
  const hash = configHash(cfg);
  const limits = s.deploy?.resources?.limits;
  const reservations = s.deploy?.resources?.reservations;
  const cpus = limits?.cpus ?? s.resources?.cpus;
  const memory = limits?.memoryBytes ?? s.resources?.memoryBytes;
  const pids = limits?.pids ?? s.resources?.pidsLimit;
  return {
    name: swarmServiceName(project, s.name),
    image: s.image,
    entrypoint: s.entrypoint,
    command: s.command,
    env: Object.entries(s.environment).map(([k, v]) => `${k}=${v}`),
    labels: {
      [STACK_LABEL]: project,
      [LABELS.managed]: 'true',
      [LABELS.deployProject]: project,
      [LABELS.deployService]: s.name,
      [LABELS.deployHash]: hash,
      [LABELS.deployConfig]: canonicalJson(cfg),
      [LABELS.deployRevision]: String(revision),
      ...s.deploy?.labels,
    },
    containerLabels: { ...s.labels, [STACK_LABEL]: project, [LABELS.deployProject]: project, [LABELS.deployService]: s.name },
    healthcheck: s.healthcheck,
    user: s.user,
    workingDir: s.workingDir,
    stopSignal: s.stopSignal,
    stopGracePeriodMs: s.stopGracePeriodMs,
    mounts: s.volumes
      .filter((v) => v.type !== 'anonymous')
      .map((v) => ({ type: v.type === 'bind' ? ('bind' as const) : ('volume' as const), source: v.type === 'volume' && v.source ? volumeName(names, v.source) : v.source, target: v.target, readOnly: v.readOnly })),
    // Like on one engine: only the networks the service lists (the default one when it lists none).
    networks: serviceNetworks(s).map((n) => ({ target: networkName(names, n), aliases: [s.name, ...(s.networkSettings?.[n]?.aliases ?? []).filter((a) => a !== s.name)] })),
    mode: s.deploy?.mode === 'global' ? 'global' : undefined,
    constraints: s.deploy?.placement?.constraints,
    spread: s.deploy?.placement?.preferences?.map((p) => p.spread),
    maxReplicasPerNode: s.deploy?.placement?.maxReplicasPerNode,
    secrets: fileRefs('secret', s.secrets, objects.secrets),
    configs: fileRefs('config', s.configs, objects.configs),
    resources:
      cpus !== undefined || memory !== undefined || pids !== undefined || reservations
        ? {
            limits: cpus !== undefined || memory !== undefined || pids !== undefined ? { nanoCpus: cpus === undefined ? undefined : Math.round(cpus * 1e9), memoryBytes: memory, pids } : undefined,
            reservations: reservations
              ? { nanoCpus: reservations.cpus === undefined ? undefined : Math.round(reservations.cpus * 1e9), memoryBytes: reservations.memoryBytes, genericResources: reservations.genericResources }
              : undefined,
          }
        : undefined,
    endpointMode: s.deploy?.endpointMode,
    hostname: s.hostname,
    capAdd: s.capAdd,
    capDrop: s.capDrop,
    sysctls: s.sysctls,
    ulimits: s.ulimits ? Object.entries(s.ulimits).map(([name, u]) => ({ name, soft: u.soft, hard: u.hard })) : undefined,
    tty: s.tty,
    openStdin: s.stdinOpen,
    readOnly: s.readOnly,
    init: s.init,
    dns: s.dns,
    dnsSearch: s.dnsSearch,
    dnsOptions: s.dnsOpt,
    hosts: s.extraHosts?.map((h) => {
      const at = h.indexOf(':');
      return `${h.slice(at + 1)} ${h.slice(0, at)}`;
    }),
    ports: s.ports.map((p) => ({ target: p.target, published: p.published, protocol: p.protocol })),
    replicas: s.replicas,
    update: s.update,
    rollback: s.rollback,
    ...swarmRestart(s),
  };
}

/**
 * The restart policy as `docker stack deploy` maps it: `deploy.restart_policy` as given; else
 * from `restart:` — `on-failure` stays on-failure, everything else (always, unless-stopped, and
 * `no` or no `restart:` at all, for which the stack sends no policy) is Swarm's default `any`,
 * so a killed task is replaced.
 */
export function swarmRestart(s: ServiceSpec): SwarmRestartPolicy {
  const p = s.deploy?.restartPolicy;
  if (!p) return { restart: s.restart === 'on-failure' ? 'on-failure' : 'any' };
  return { restart: p.condition, restartDelayMs: p.delayMs, restartMaxAttempts: p.maxAttempts, restartWindowMs: p.windowMs };
}

/** A Swarm service as observed for a plan: with how many of its tasks run (when known). */
export type ObservedSwarmService = SwarmService & { running?: number | undefined };

/** Pure: the same plan shape as on one host, from the services' labels (and running task counts). */
export function planSwarm(config: SystemConfig, services: readonly ObservedSwarmService[]): DeployPlan {
  const steps: PlanStep[] = [];
  const byName = new Map(services.map((x) => [x.labels[LABELS.deployService] ?? '', x]));
  for (const name of dependencyOrder(config.services)) {
    const s = config.services.find((x) => x.name === name)!;
    const have = byName.get(name);
    const image = { from: have?.image, to: s.image };
    if (!have) {
      steps.push({ service: name, action: 'create', causes: ['new service'], replicas: { from: 0, to: s.replicas }, image });
      continue;
    }
    const causes: string[] = [];
    const changed = have.labels[LABELS.deployHash] !== configHash(s);
    if (changed) {
      let old: ContainerConfig | undefined;
      try {
        old = JSON.parse(have.labels[LABELS.deployConfig] ?? '') as ContainerConfig;
      } catch {
        old = undefined;
      }
      const d = old ? describeChanges(old, containerConfig(s)) : [];
      causes.push(...(d.length ? d : ['config changed']));
    }
    if (have.replicas !== s.replicas) causes.push(`replicas ${have.replicas} → ${s.replicas}`);
    if (have.updateState === 'paused' || have.updateState === 'rollback_paused') causes.push(`update ${have.updateState}`);
    // Tasks that died and were not replaced (restart condition none, max_attempts reached): apply forces new ones.
    const down = have.replicas === s.replicas && have.running !== undefined && have.running < s.replicas;
    if (down) causes.push(`${have.running} of ${s.replicas} replicas running`);
    const action = changed || down || have.updateState === 'paused' ? 'update' : have.replicas !== s.replicas ? 'scale' : 'unchanged';
    steps.push({ service: name, action, causes, replicas: { from: have.replicas, to: s.replicas }, image });
  }
  for (const [name, svc] of byName) {
    if (!name || config.services.some((s) => s.name === name)) continue;
    steps.push({ service: name, action: 'delete', causes: ['not in the configuration'], replicas: { from: svc.replicas, to: 0 }, image: { from: svc.image } });
  }
  return { project: config.project, steps, order: steps.map((s) => s.service), changes: steps.some((s) => s.action !== 'unchanged') };
}

export async function observeSwarm(engine: Engine, project: string): Promise<ObservedSwarmService[]> {
  const services = await engine.listServices([`${LABELS.deployProject}=${project}`]);
  return Promise.all(services.map(async (s) => ({ ...s, running: (await engine.listTasks(s.id)).filter((t) => t.desiredState === 'running' && t.state === 'running').length })));
}

export interface SwarmApplyDeps {
  engine: Engine;
  clock?: Clock;
  signal?: AbortSignal;
  onEvent?: (e: DeployEvent) => void;
  /** How long to wait for a service to converge (default 10 min). */
  timeoutMs?: number;
}

/**
 * Applies a plan to a Swarm: services are created or updated with their update_config and
 * rollback_config, and kiboko waits for the true outcome — UpdateStatus `completed`, or
 * `rollback_completed`/`paused`, which are failures (unlike `docker stack deploy`, which exits 0
 * after an automatic rollback).
 */
export async function applySwarm(config: SystemConfig, plan: DeployPlan, revision: number, deps: SwarmApplyDeps): Promise<ApplyResult> {
  const { engine } = deps;
  const clock = deps.clock ?? systemClock;
  const emit = (e: DeployEvent) => deps.onEvent?.(e);
  const iso = () => new Date(clock.now()).toISOString();
  const timeout = deps.timeoutMs ?? 600_000;
  const labels = { [LABELS.managed]: 'true', [LABELS.deployProject]: config.project, [STACK_LABEL]: config.project };
  for (const key of projectNetworkKeys(config)) {
    const def = config.networkDefinitions?.[key];
    if (def?.external) continue;
    await engine.ensureOverlayNetwork(networkName(config, key), { ...def?.labels, ...labels, [COMPOSE_LABELS.network]: key });
  }
  const objects = plan.steps.some((st) => st.action === 'create' || st.action === 'update') ? await ensureSwarmObjects(engine, config, labels) : NO_OBJECTS;
  const existing = await observeSwarm(engine, config.project);
  const results: ServiceResult[] = [];
  let stopped = false;
  for (const step of plan.steps) {
    if (stopped || deps.signal?.aborted) {
      results.push({ service: step.service, outcome: 'cancelled', error: 'not started: an earlier service failed or the deploy was cancelled' });
      stopped = true;
      continue;
    }
    if (step.action === 'unchanged') {
      results.push({ service: step.service, outcome: 'unchanged' });
      continue;
    }
    emit({ type: 'service-started', at: iso(), service: step.service, action: step.action, causes: step.causes });
    const have = existing.find((x) => x.labels[LABELS.deployService] === step.service);
    let result: ServiceResult;
    try {
      if (step.action === 'delete') {
        await engine.removeService(have!.id);
        result = { service: step.service, outcome: 'ok' };
      } else {
        const s = config.services.find((x) => x.name === step.service)!;
        // Replicas down with an unchanged spec: only a forced update (`docker service update --force`) replaces them.
        const def = { ...toSwarmDefinition(config, s, revision, objects), ...(step.causes.some((c) => / replicas running$/.test(c)) ? { forceUpdate: Math.floor(clock.now() / 1000) } : {}) };
        let id: string;
        const before = have ? await engine.inspectService(have.id) : undefined;
        const requestedAt = Date.now();
        if (have) {
          id = have.id;
          await engine.updateService(id, before!.version, def);
        } else {
          id = await engine.createService(def);
        }
        result = await waitConverged(engine, id, s, requestedAt, Boolean(have), clock, timeout, deps.signal, (m) => emit({ type: 'warning', at: iso(), message: m }));
      }
    } catch (err) {
      result = { service: step.service, outcome: 'failed', error: asKibokoError(err).message };
    }
    emit({ type: 'service-finished', at: iso(), service: step.service, outcome: result.outcome, detail: result.error });
    results.push(result);
    if (result.outcome !== 'ok') stopped = true;
  }
  const failed = results.some((r) => r.outcome === 'failed' || r.outcome === 'rolled-back' || r.outcome === 'paused');
  return { outcome: failed ? 'failed' : deps.signal?.aborted ? 'cancelled' : 'ok', services: results };
}

async function waitConverged(
  engine: Engine,
  id: string,
  s: ServiceSpec,
  requestedAt: number,
  updated: boolean,
  clock: Clock,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  warn: (m: string) => void,
): Promise<ServiceResult> {
  const start = clock.now();
  for (;;) {
    const svc = await engine.inspectService(id);
    // Only the status of this update counts, not a `completed` left by an earlier one.
    const current = svc.updateState && svc.updateStartedAt && Date.parse(svc.updateStartedAt) >= requestedAt - 1000 ? svc.updateState : undefined;
    if (current === 'rollback_completed') {
      return { service: s.name, outcome: 'rolled-back', error: `Swarm rolled the update back: ${svc.updateMessage ?? 'update failed'}; the service runs ${svc.image}`, image: svc.image };
    }
    if (current === 'paused' || current === 'rollback_paused') {
      return { service: s.name, outcome: 'paused', error: `Swarm ${current === 'paused' ? 'paused the update' : 'paused the rollback'}: ${svc.updateMessage ?? ''}`, image: svc.image };
    }
    const settled = current === 'completed' || (current === undefined && (!updated || clock.now() - start > 2000));
    if (settled && (await tasksRunning(engine, id, s.replicas))) return { service: s.name, outcome: 'ok', image: s.image };
    if (signal?.aborted) {
      warn(`cancelled while ${s.name} converges; Swarm finishes (or rolls back) the update by itself`);
      return { service: s.name, outcome: 'cancelled', error: 'cancelled while converging' };
    }
    if (clock.now() - start > timeoutMs) {
      throw new KibokoError('TIMEOUT', `${s.name} did not converge within ${Math.round(timeoutMs / 1000)}s (update state: ${svc.updateState ?? 'none'})`, {
        hint: `inspect it: docker service ps ${svc.name}`,
      });
    }
    await clock.sleep(500);
  }
}

/** All desired replicas running with the service's current image (Swarm marks a task running only once healthy). */
async function tasksRunning(engine: Engine, id: string, replicas: number): Promise<boolean> {
  const svc = await engine.inspectService(id);
  const tasks = (await engine.listTasks(id)).filter((t) => t.desiredState === 'running');
  return tasks.filter((t) => t.state === 'running' && t.image.split('@')[0] === svc.image.split('@')[0]).length >= replicas;
}

/**
 * The Swarm secrets and configs the services use: external ones looked up by name; the others
 * created from their file, environment or content under `<name>_<sha256[:10]>` (Swarm objects
 * cannot change, so new content is a new object and the services move to it).
 */
async function ensureSwarmObjects(engine: Engine, config: SystemConfig, labels: Readonly<Record<string, string>>): Promise<SwarmObjects> {
  const out = { secrets: new Map<string, { id: string; name: string }>(), configs: new Map<string, { id: string; name: string }>() };
  for (const kind of ['secret', 'config'] as const) {
    const used = new Set(config.services.flatMap((s) => (kind === 'secret' ? s.secrets : s.configs) ?? []).map((r) => r.source));
    if (used.size === 0) continue;
    const existing = await engine.listSwarmObjects(kind);
    for (const key of used) {
      const def = (kind === 'secret' ? config.secrets : config.configs)?.[key];
      const target = kind === 'secret' ? out.secrets : out.configs;
      if (def?.external) {
        const found = existing.find((o) => o.name === def.name);
        if (!found) throw new KibokoError('INVALID_ARGUMENT', `external ${kind} ${def.name} does not exist on the Swarm`, { hint: `create it: docker ${kind} create ${def.name} <file>` });
        target.set(key, { id: found.id, name: found.name });
        continue;
      }
      const data = fileObjectData(kind, key, def);
      const name = `${def!.name}_${createHash('sha256').update(data).digest('hex').slice(0, 10)}`;
      const found = existing.find((o) => o.name === name);
      const id = found ? found.id : await engine.createSwarmObject(kind, name, data, { ...def!.labels, ...labels });
      target.set(key, { id, name });
    }
  }
  return out;
}
