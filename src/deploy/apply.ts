import { systemClock } from '../common/clock.js';
import { mapSettled } from '../common/concurrency.js';
import { asKibokoError, isAbortError, KibokoError } from '../common/errors.js';
import { COMPOSE_LABELS, LABELS } from '../common/labels.js';
import { interimName, primaryNetwork, replicaName, replicaSpec } from './containers.js';
import { preStop, runLifecycleHooks } from './lifecycle-hooks.js';
import { ensureProjectObjects, projectFiles } from './objects.js';
import { drain, ensureFront, frontPorts, removeFront, setUpstreams, type Front } from './front/index.js';
import { configHash, containerConfig, type ContainerConfig } from './hash.js';
import type { ServiceSpec, SystemConfig, UpdateConfig } from './model.js';
import { observeProject, type ObservedReplica } from './observe.js';
import type { DeployPlan } from './plan.js';
import { waitReady } from './ready.js';
import { iso, type ApplyCtx, type ApplyDeps, type ApplyResult, type ServiceResult } from './apply-context.js';

export type { ApplyDeps, ApplyResult, DeployEvent, ReplicaHooks, ServiceOutcome, ServiceResult } from './apply-context.js';

/**
 * Executes a deploy plan: project networks and volumes, then the services in dependency waves
 * (independent services at once) — create, scale, or a rolling update honouring update_config —
 * and deletions last. A failed update follows failure_action (rollback by default) and the result
 * says what failed and what was restored; one service failing stops the services after its wave.
 */
export async function applyDeploy(config: SystemConfig, plan: DeployPlan, revision: number, deps: ApplyDeps): Promise<ApplyResult> {
  const ctx: ApplyCtx = {
    engine: deps.engine,
    clock: deps.clock ?? systemClock,
    project: config.project,
    config,
    revision,
    signal: deps.signal ?? new AbortController().signal,
    emit: (e) => deps.onEvent?.(e),
    healthTimeoutMs: deps.healthTimeoutMs,
    pollMs: deps.pollMs ?? 250,
    jobs: new Set(config.services.flatMap((s) => s.dependsOn.filter((d) => d.condition === 'service_completed_successfully').map((d) => d.service))),
    hooks: deps.hooks,
  };
  if (plan.steps.some((s) => s.action !== 'delete' && s.action !== 'unchanged')) await ensureProjectObjects(ctx.engine, config);
  const observed = await observeProject(ctx.engine, config.project);
  const byService = new Map<string, ServiceResult>();
  const runStep = async (step: DeployPlan['steps'][number]): Promise<ServiceResult> => {
    const spec = config.services.find((s) => s.name === step.service);
    const have = observed.filter((r) => r.service === step.service);
    if (step.action === 'unchanged') return { service: step.service, outcome: 'unchanged', image: spec?.image };
    ctx.emit({ type: 'service-started', at: iso(ctx), service: step.service, action: step.action, causes: step.causes });
    let result: ServiceResult;
    try {
      result = step.action === 'delete' ? await deleteService(step.service, have, ctx) : await rollService(spec!, have, ctx, Boolean(step.recreate));
    } catch (err) {
      result = { service: step.service, outcome: 'failed', error: asKibokoError(err).message };
    }
    ctx.emit({ type: 'service-finished', at: iso(ctx), service: step.service, outcome: result.outcome, detail: result.error });
    return result;
  };
  // Services whose dependencies are done go together, in waves (bounded); deletions come last.
  // A failure lets the rest of its wave finish, then stops everything after it.
  let pending = plan.steps.filter((s) => s.action !== 'delete');
  const deletes = plan.steps.filter((s) => s.action === 'delete');
  let stopped = false;
  while (pending.length && !stopped && !ctx.signal.aborted) {
    const wave = pending.filter((step) => (config.services.find((s) => s.name === step.service)?.dependsOn ?? []).every((d) => byService.has(d.service)));
    if (wave.length === 0) break;
    const settled = await mapSettled(wave, deps.concurrency ?? 8, runStep);
    for (const [i, r] of settled.entries()) {
      const result = r.ok ? r.value : { service: wave[i]!.service, outcome: 'failed' as const, error: asKibokoError(r.error).message };
      byService.set(result.service, result);
      if (result.outcome !== 'ok' && result.outcome !== 'unchanged') stopped = true;
    }
    pending = pending.filter((p) => !wave.includes(p));
  }
  for (const step of deletes) {
    if (stopped || ctx.signal.aborted) break;
    const result = await runStep(step);
    byService.set(step.service, result);
    if (result.outcome !== 'ok') stopped = true;
  }
  const results: ServiceResult[] = plan.steps.map(
    (step) => byService.get(step.service) ?? { service: step.service, outcome: 'cancelled', error: 'not started: an earlier service failed or the deploy was cancelled' },
  );
  const failed = results.some((r) => r.outcome === 'failed' || r.outcome === 'rolled-back' || r.outcome === 'paused');
  return { outcome: failed ? 'failed' : ctx.signal.aborted ? 'cancelled' : 'ok', services: results };
}

/**
 * Which replicas a service's front sends new connections to. Without a front (no published TCP
 * port) every call is a no-op. A replica joins once ready and leaves — and is drained — before
 * it is stopped, so clients never meet a stopping or starting replica.
 */
class Traffic {
  private readonly live = new Map<string, string>();
  constructor(
    private readonly ctx: ApplyCtx,
    private readonly front: (Front & { network: string }) | undefined,
  ) {}

  get fronted(): boolean {
    return this.front !== undefined;
  }

  seed(id: string, ip: string) {
    this.live.set(id, ip);
  }

  async add(id: string): Promise<void> {
    if (!this.front) return;
    const ip = (await this.ctx.engine.inspect(id)).networks[this.front.network]?.ipAddress;
    if (!ip) throw new KibokoError('ACTION_FAILED', `replica ${id.slice(0, 12)} has no address on ${this.front.network}`);
    this.live.set(id, ip);
    await setUpstreams(this.ctx.engine, this.front, [...this.live.values()]);
  }

  async remove(id: string, graceMs: number): Promise<void> {
    if (!this.front || !this.live.has(id)) return;
    const ip = this.live.get(id)!;
    this.live.delete(id);
    await setUpstreams(this.ctx.engine, this.front, [...this.live.values()]);
    const drained = await drain(this.ctx.engine, this.front, ip, graceMs, this.ctx.clock);
    if (!drained) this.ctx.emit({ type: 'warning', at: iso(this.ctx), message: `connections to ${ip} still open after ${Math.round(graceMs / 1000)}s; stopping it anyway` });
  }
}

/** Opens (or creates) the service's front when it publishes TCP ports, seeded with the running replicas. */
async function openTraffic(s: ServiceSpec, have: readonly ObservedReplica[], ctx: ApplyCtx): Promise<Traffic> {
  // The front reaches replicas on the service's first network; a service sharing another namespace publishes nothing itself.
  const network = primaryNetwork(ctx.config, s);
  if (frontPorts(s.ports).length === 0 || network === undefined) return new Traffic(ctx, undefined);
  const running: [string, string][] = [];
  for (const r of have.filter((x) => x.status === 'running')) {
    const ip = (await ctx.engine.inspect(r.id)).networks[network]?.ipAddress;
    if (ip) running.push([r.id, ip]);
  }
  let front: Front & { created: boolean };
  try {
    front = await ensureFront(ctx.engine, ctx.project, s.name, network, s.ports, running.map(([, ip]) => ip));
  } catch (err) {
    // E.g. a remote engine of another architecture, where the front image cannot be built.
    ctx.emit({ type: 'warning', at: iso(ctx), message: `no front proxy for ${s.name} (${asKibokoError(err).message}): replicas publish their ports themselves` });
    return new Traffic(ctx, undefined);
  }
  const t = new Traffic(ctx, { ...front, network });
  for (const [id, ip] of running) t.seed(id, ip);
  if (!front.created) await setUpstreams(ctx.engine, front, running.map(([, ip]) => ip));
  return t;
}

async function deleteService(service: string, have: readonly ObservedReplica[], ctx: ApplyCtx): Promise<ServiceResult> {
  await removeFront(ctx.engine, ctx.project, service);
  for (const r of have) await removeReplica(service, r.slot, r.id, ctx, Math.ceil((r.config?.stopGracePeriodMs ?? 10_000) / 1000), r.config);
  return { service, outcome: 'ok' };
}

/** Stops (after the config's pre_stop hooks; a failing one is a warning) and removes one replica. */
async function removeReplica(service: string, slot: number, id: string, ctx: ApplyCtx, graceSeconds: number, cfg?: Pick<ContainerConfig, 'preStop'> | undefined) {
  ctx.emit({ type: 'replica-stopping', at: iso(ctx), service, slot, id, graceSeconds });
  try {
    await preStop(ctx.engine, id, cfg?.preStop, (message) => ctx.emit({ type: 'warning', at: iso(ctx), message: `${service}[${slot}]: ${message}` }));
    await ctx.engine.stop(id, graceSeconds);
    await ctx.engine.remove(id, { force: true, volumes: true });
  } catch (err) {
    if (!(err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND')) throw err;
  }
  ctx.emit({ type: 'replica-removed', at: iso(ctx), service, slot, id });
}

/**
 * A replica of `cfg` in `slot`, created under compose's name and started (its secrets and
 * configs copied in first). When a running replica of the same service still holds that name
 * (start-first), the new one gets an interim name until `claimName`; a stopped leftover of the
 * project under the name is replaced; a container of anything else under it is a conflict.
 */
async function startReplica(service: ServiceSpec, slot: number, cfg: ContainerConfig, ctx: ApplyCtx, publish = true, nameTaken = false): Promise<string> {
  const interim = nameTaken ? interimName(ctx.project, service.name, slot, configHash(cfg), cfg.containerName) : undefined;
  let spec = replicaSpec(ctx.config, service.name, slot, cfg, ctx.revision, publish, interim);
  const create = async () => {
    try {
      return await ctx.engine.create(spec);
    } catch (err) {
      if (!(err instanceof KibokoError && err.code === 'CONFLICT')) throw err;
      const holder = await ctx.engine.inspect(spec.name).catch(() => undefined);
      if (!holder) throw err;
      const ours = holder.labels[LABELS.deployProject] === ctx.project || holder.labels[COMPOSE_LABELS.project] === ctx.project;
      if (!ours) {
        throw new KibokoError('CONFLICT', `container name ${spec.name} is taken by a container that is not part of project ${ctx.project}`, {
          hint: `remove or rename that container (docker rm -f ${spec.name}), or choose another container_name`,
          cause: err,
        });
      }
      if ((holder.status === 'running' || holder.status === 'restarting' || holder.status === 'paused') && (holder.labels[LABELS.deployService] ?? holder.labels[COMPOSE_LABELS.service]) === service.name && spec.name === replicaName(ctx.project, service.name, slot, cfg.containerName)) {
        spec = { ...spec, name: interimName(ctx.project, service.name, slot, configHash(cfg), cfg.containerName) };
        return create();
      }
      await ctx.engine.remove(holder.id, { force: true });
      return ctx.engine.create(spec);
    }
  };
  const ref = await create();
  ctx.emit({ type: 'replica-started', at: iso(ctx), service: service.name, slot, id: ref.id, name: spec.name, image: cfg.image });
  try {
    const files = await projectFiles(ctx.config, cfg);
    if (files) await ctx.engine.putArchive(ref.id, '/', files);
  } catch (err) {
    await ctx.engine.remove(ref.id, { force: true }).catch(() => undefined);
    throw err;
  }
  await ctx.engine.start(ref.id);
  // compose's post_start: a failing hook fails the replica (it is removed, like a failed create).
  if (cfg.postStart?.length) {
    try {
      await runLifecycleHooks(ctx.engine, ref.id, 'post_start', cfg.postStart, ctx.signal);
    } catch (err) {
      await ctx.engine.remove(ref.id, { force: true }).catch(() => undefined);
      throw err;
    }
  }
  return ref.id;
}

/** Gives a replica compose's name once the replica it replaced is gone (a failure only delays it to the next update). */
async function claimName(service: ServiceSpec, slot: number, id: string, cfg: ContainerConfig, ctx: ApplyCtx): Promise<void> {
  const name = replicaName(ctx.project, service.name, slot, cfg.containerName);
  try {
    const d = await ctx.engine.inspect(id);
    if (d.name !== name) await ctx.engine.rename(id, name);
  } catch (err) {
    ctx.emit({ type: 'warning', at: iso(ctx), message: `${service.name}[${slot}] keeps its interim name: ${asKibokoError(err).message}` });
  }
}

/** Creates, scales or rolls one service to its desired config. */
async function rollService(s: ServiceSpec, have: readonly ObservedReplica[], ctx: ApplyCtx, recreate = false): Promise<ServiceResult> {
  const want = containerConfig(s);
  const wantHash = configHash(want);
  const traffic = await openTraffic(s, have, ctx);
  const u = effectiveUpdate(s, ctx, traffic.fronted);
  const bySlot = new Map<number, ObservedReplica>();
  const extras: ObservedReplica[] = [];
  for (const r of [...have].sort((a, b) => a.slot - b.slot || (a.hash === wantHash ? -1 : 1))) {
    if (bySlot.has(r.slot) || r.slot < 1 || r.slot > s.replicas) extras.push(r);
    else bySlot.set(r.slot, r);
  }
  // Slots to (re)create: stale or down replicas first, then missing slots (scale up).
  const work: { slot: number; old?: ObservedReplica | undefined }[] = [];
  for (let slot = 1; slot <= s.replicas; slot++) {
    const r = bySlot.get(slot);
    if (!r) work.push({ slot });
    else if (recreate || r.hash !== wantHash || !isSettled(r.status, ctx.jobs.has(s.name))) work.push({ slot, old: r });
  }
  work.sort((a, b) => Number(!a.old) - Number(!b.old) || a.slot - b.slot);

  const total = work.length;
  const size = u.parallelism === 0 ? Math.max(1, total) : u.parallelism;
  // Replacements go in batches of `parallelism`; new slots (a new service, a scale-up) start together.
  const replacing = work.filter((w) => w.old);
  const adding = work.filter((w) => !w.old);
  const batches: (typeof work)[] = [];
  for (let i = 0; i < replacing.length; i += size) batches.push(replacing.slice(i, i + size));
  if (adding.length) batches.push(adding);
  const done: { slot: number; newId: string; old?: ObservedReplica | undefined }[] = [];
  let failures = 0;
  let failureReason = '';
  let replaced = 0;
  for (const [b, batch] of batches.entries()) {
    if (ctx.signal.aborted) break;
    const outcomes = await Promise.all(batch.map((w) => replaceSlot(s, w.slot, w.old, want, u, ctx, traffic)));
    for (const [k, o] of outcomes.entries()) {
      if (o.ok) {
        replaced++;
        done.push({ slot: batch[k]!.slot, newId: o.id, old: batch[k]!.old });
      } else {
        failures++;
        failureReason = `replica ${batch[k]!.slot}: ${o.reason}`;
        // Even without a new container the slot was touched (stop-first removed the old one).
        done.push({ slot: batch[k]!.slot, newId: o.id ?? '', old: batch[k]!.old });
      }
    }
    ctx.emit({ type: 'batch-done', at: iso(ctx), service: s.name, updated: replaced, failed: failures, total });
    if (failures > 0 && failures / Math.max(1, total) > u.maxFailureRatio && u.failureAction !== 'continue') {
      if (u.failureAction === 'pause') {
        return { service: s.name, outcome: 'paused', error: `update paused after ${failures} failure(s) (${failureReason}); ${done.length - failures} of ${total} replicas updated — run apply again to resume, or roll back`, image: s.image };
      }
      const rolled = await rollBack(s, done, `update failed: ${failureReason}`, ctx, traffic);
      // A service that did not exist before is gone again: so is its front.
      if (have.length === 0) await removeFront(ctx.engine, ctx.project, s.name);
      return rolled;
    }
    if (u.delayMs && b < batches.length - 1) {
      try {
        await ctx.clock.sleep(u.delayMs, ctx.signal);
      } catch (err) {
        if (!isAbortError(err)) throw err;
      }
    }
  }
  if (ctx.signal.aborted && done.length < work.length) {
    // Stop at a safe point, on one version: undo the part of this service already rolled.
    const rolled = await rollBack(s, done, 'cancelled', ctx, traffic);
    return { ...rolled, outcome: rolled.outcome === 'failed' ? 'failed' : 'cancelled' };
  }
  for (const r of extras.sort((a, b) => b.slot - a.slot)) {
    await traffic.remove(r.id, graceOf(s) * 1000);
    await removeReplica(s.name, r.slot, r.id, ctx, graceOf(s), r.config);
  }
  if (failures > 0) {
    const why = u.failureAction === 'continue' ? 'failure_action continue' : `within max_failure_ratio ${u.maxFailureRatio}`;
    return { service: s.name, outcome: 'ok', error: `${failures} replica(s) failed (${failureReason}); tolerated: ${why}`, image: s.image };
  }
  return { service: s.name, outcome: 'ok', image: s.image };
}

/** A replica needs no work when it runs — or, for a one-shot job, when it has finished. */
const isSettled = (status: string, job: boolean) => status === 'running' || status === 'restarting' || (job && status === 'exited');

function graceOf(s: { stopGracePeriodMs?: number | undefined }): number {
  return Math.ceil((s.stopGracePeriodMs ?? 10_000) / 1000);
}

/**
 * start-first needs two containers of a slot at once, which a fixed published host port forbids:
 * such services go stop-first, with a warning (the zero-downtime front proxy is what lifts this).
 */
function effectiveUpdate(s: ServiceSpec, ctx: ApplyCtx, fronted: boolean): UpdateConfig {
  // With a front, replicas publish nothing themselves: only UDP ports still pin a host port.
  const fixedPort = s.ports.some((p) => p.published !== undefined && (!fronted || p.protocol === 'udp'));
  if (s.update.order === 'start-first' && fixedPort) {
    ctx.emit({ type: 'warning', at: iso(ctx), message: `${s.name} publishes a fixed host port, which two containers cannot share: updating stop-first (a short gap per replica)` });
    return { ...s.update, order: 'stop-first' };
  }
  return s.update;
}

async function replaceSlot(
  s: ServiceSpec,
  slot: number,
  old: ObservedReplica | undefined,
  cfg: ContainerConfig,
  u: UpdateConfig,
  ctx: ApplyCtx,
  traffic: Traffic,
): Promise<{ ok: true; id: string } | { ok: false; id?: string | undefined; reason: string }> {
  const job = ctx.jobs.has(s.name);
  const oldRunning = old && (old.status === 'running' || old.status === 'restarting');
  if (old && (u.order === 'stop-first' || !oldRunning || old.hash === configHash(cfg))) {
    await traffic.remove(old.id, graceOf(s) * 1000);
    await removeReplica(s.name, slot, old.id, ctx, graceOf(s), old.config);
  }
  let id: string;
  // start-first: the old replica keeps compose's name until it is gone.
  const keepsOld = Boolean(old && oldRunning && u.order === 'start-first' && old.hash !== configHash(cfg));
  try {
    id = await startReplica(s, slot, cfg, ctx, !traffic.fronted, keepsOld && old!.name === replicaName(ctx.project, s.name, slot, cfg.containerName));
  } catch (err) {
    const reason = asKibokoError(err).message;
    ctx.emit({ type: 'replica-failed', at: iso(ctx), service: s.name, slot, id: '', reason });
    return { ok: false, reason };
  }
  await runHook(ctx, () => ctx.hooks?.started?.(s.name, slot, id));
  const started = ctx.clock.now();
  const ready = await waitReady(id, cfg, u.monitorMs, ctx, job, s.gate, { service: s.name, slot });
  if (!ready.ok) {
    ctx.emit({ type: 'replica-failed', at: iso(ctx), service: s.name, slot, id, reason: ready.reason });
    if (old && oldRunning && u.order === 'start-first') {
      // The old replica still serves: a failed new one never stays beside it (a later apply
      // would otherwise keep the failed one and remove the healthy one).
      await removeReplica(s.name, slot, id, ctx, graceOf(s), cfg);
      return { ok: false, reason: ready.reason };
    }
    return { ok: false, id, reason: ready.reason };
  }
  ctx.emit({ type: 'replica-ready', at: iso(ctx), service: s.name, slot, id, ms: ctx.clock.now() - started, health: ready.health });
  if (!job) await traffic.add(id);
  await runHook(ctx, () => ctx.hooks?.ready?.(s.name, slot, id, old?.id));
  if (old && oldRunning && u.order === 'start-first' && old.hash !== configHash(cfg)) {
    await traffic.remove(old.id, graceOf(s) * 1000);
    await removeReplica(s.name, slot, old.id, ctx, graceOf(s), old.config);
    await claimName(s, slot, id, cfg, ctx);
  }
  return { ok: true, id };
}

async function runHook(ctx: ApplyCtx, hook: () => Promise<void> | undefined): Promise<void> {
  try {
    await hook();
  } catch (err) {
    ctx.emit({ type: 'warning', at: iso(ctx), message: `replica hook failed: ${asKibokoError(err).message}` });
  }
}

/**
 * Puts every slot this run touched back on the config it had before (start-first where the old
 * replica is gone, waiting for it to be ready), removing the new replicas; slots that were new
 * (scale up, new service) are removed.
 */
async function rollBack(
  s: ServiceSpec,
  done: readonly { slot: number; newId: string; old?: ObservedReplica | undefined }[],
  reason: string,
  ctx: ApplyCtx,
  traffic: Traffic,
): Promise<ServiceResult> {
  ctx.emit({ type: 'rollback-started', at: iso(ctx), service: s.name, reason });
  const problems: string[] = [];
  const restoredImages = new Set<string>();
  const fixedPort = !traffic.fronted && s.ports.some((p) => p.published !== undefined);
  const restoredIds = new Map<number, string>();
  for (const d of done) {
    const prior = d.old?.config;
    if (fixedPort && d.newId) {
      await removeReplica(s.name, d.slot, d.newId, ctx, graceOf(s), s).catch((err) => problems.push(`slot ${d.slot}: ${asKibokoError(err).message}`));
    }
    if (prior) {
      try {
        const alive = await ctx.engine.inspect(d.old!.id).then(
          (x) => x.status === 'running',
          () => false,
        );
        if (!alive) {
          const id = await startReplica({ ...s, ...prior, name: s.name } as ServiceSpec, d.slot, prior, ctx, !traffic.fronted);
          restoredIds.set(d.slot, id);
          const ready = await waitReady(id, prior, Math.min(s.rollback.monitorMs, 5000), ctx, ctx.jobs.has(s.name), undefined, { service: s.name, slot: d.slot });
          if (!ready.ok) problems.push(`slot ${d.slot}: the previous version did not come back (${ready.reason})`);
          else await traffic.add(id);
        }
        restoredImages.add(prior.image);
      } catch (err) {
        problems.push(`slot ${d.slot}: ${asKibokoError(err).message}`);
      }
    }
    if (d.newId && !fixedPort) {
      await traffic.remove(d.newId, graceOf(s) * 1000).catch((err) => problems.push(`slot ${d.slot}: ${asKibokoError(err).message}`));
      await removeReplica(s.name, d.slot, d.newId, ctx, graceOf(s), s).catch((err) => problems.push(`slot ${d.slot}: ${asKibokoError(err).message}`));
    }
    // The restored (or kept) replica takes compose's name back.
    if (prior && restoredIds.has(d.slot)) await claimName(s, d.slot, restoredIds.get(d.slot)!, prior, ctx);
  }
  const restored = restoredImages.size ? `restored ${[...restoredImages].join(', ')}` : 'removed the new replicas';
  return {
    service: s.name,
    outcome: problems.length ? 'failed' : 'rolled-back',
    error: `${reason}; ${restored}${problems.length ? `; ${problems.join('; ')}` : ''}`,
    image: [...restoredImages][0],
  };
}
