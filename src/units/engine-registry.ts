import { asKibokoError, KibokoError } from '../common/errors.js';
import type { ContainerSummary, Engine } from '../engine/index.js';
import { unitHash, type DesiredState, type FleetUnit, type Machine, type UnitOption, type UnitRegistry, type UnitStateRecord } from './api.js';
import { HASH_LABEL, tryUnitRuntime, UNIT_LABEL, type HostMountPolicy, type UnitRuntime } from './container.js';
import { localMachine } from './machine.js';
import { compareUnitNames, isTemplate } from './name.js';
import { UnitContainers } from './unit-containers.js';
import { UnitLocks } from './unit-locks.js';
import { ACTIVE, DEACTIVATING, DEACTIVATING_RECORD, isUnreachable, systemdState } from './unit-state.js';
import { UnitStore, type Row } from './unit-store.js';
import { planReconcile, planUnitStep, type ContainerAction, type ReconcileMode, type StepContext, type UnitFacts } from './reconcile-plan.js';
import { parseRequirements, type LaunchedUnit } from './xfleet.js';

export { UNIT_LABEL, HASH_LABEL } from './container.js';
export { REGISTRY_LABEL } from './unit-containers.js';
export { systemdState } from './unit-state.js';

export type { ReconcileMode } from './reconcile-plan.js';

export type LogFn = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

export interface UnitsRegistryOptions {
  /** Store units whose ExecStart is not `docker run` (they are reported as not runnable). */
  allowAnyExecStart?: boolean | undefined;
  /** This machine's fleet metadata (MachineMetadata= is matched against it); not used on Swarm, where the machines are the nodes. */
  metadata?: Readonly<Record<string, string>> | undefined;
  /** Host paths units may bind-mount (default none; true: any). */
  hostMounts?: HostMountPolicy | undefined;
  /** Overrides the machine (tests; not used on Swarm). */
  machine?: Machine | undefined;
  log?: LogFn | undefined;
}

/** The registry interface the daemon drives, beyond what the HTTP layer uses. */
export interface ReconcilingRegistry extends UnitRegistry {
  readonly backend: 'docker' | 'swarm';
  reconcileAll(mode?: ReconcileMode): Promise<void>;
  /** Why the unit is not in its desired state (failed start, placement), if it is not. */
  errorOf(name: string): string | undefined;
  /** Resolves when the engine work of every change already answered is done (stops and destroys run after the answer). */
  settled(): Promise<void>;
  close(): void;
}

/**
 * fleet's units on one Docker engine. Units live in SQLite under the state directory; each is
 * reconciled to one container found again by its labels after a restart, so nothing is
 * duplicated: inactive → no container; loaded → not running (a stopped container may stay);
 * launched → ExecStartPre, the container started, ExecStartPost. Stopping runs ExecStop, stops
 * the container, ExecStopPost. [X-Fleet] options are enforced for this one machine. Changes to
 * one unit are serialized (a lock per unit name), so HTTP requests and the periodic pass never race
 * on a unit, and a unit that stalls never holds up the others.
 */
export class EngineRegistry implements ReconcilingRegistry {
  readonly backend = 'docker' as const;
  private readonly store: UnitStore;
  private readonly unitContainers: UnitContainers;
  private readonly allowAnyExecStart: boolean;
  private readonly hostMounts: HostMountPolicy;
  private readonly machine: Machine;
  private readonly log: LogFn;
  private readonly runtimes = new Map<string, { options: string; runtime: UnitRuntime | { error: string } }>();
  /** Per-unit locks (an object, not a field that is reassigned: the server may wrap this registry with Object.create). */
  private readonly locks = new UnitLocks();
  /**
   * Stops and destroys answered before the engine did the work (fleet answers once the target
   * state is recorded): unit name → the hash of the unit being stopped, while its engine work runs.
   * /state shows such a unit `deactivating` until its container is stopped (or removed).
   */
  private readonly pending = new Map<string, { hash: string; gone: boolean }>();
  /** Engine work of answered changes still running (what `settled()` waits for). */
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly engine: Engine,
    stateDir: string,
    options: UnitsRegistryOptions | boolean = {},
  ) {
    const o = typeof options === 'boolean' ? { allowAnyExecStart: options } : options;
    this.allowAnyExecStart = Boolean(o.allowAnyExecStart);
    this.hostMounts = o.hostMounts ?? false;
    this.machine = o.machine ?? localMachine(o.metadata);
    this.log = o.log ?? (() => undefined);
    this.store = new UnitStore(stateDir);
    this.unitContainers = new UnitContainers(engine, this.store.id);
  }

  validate(name: string, options: readonly UnitOption[]): string | undefined {
    const r = tryUnitRuntime(name, options, this.hostMounts);
    return 'error' in r && !this.allowAnyExecStart ? r.error : undefined;
  }

  // ---- reading --------------------------------------------------------------------------------

  private runtime(r: Row): UnitRuntime | { error: string } {
    const cached = this.runtimes.get(r.name);
    if (cached && cached.options === r.options) return cached.runtime;
    const runtime = tryUnitRuntime(r.name, JSON.parse(r.options) as UnitOption[], this.hostMounts);
    this.runtimes.set(r.name, { options: r.options, runtime });
    return runtime;
  }

  private async toUnit(r: Row, cs: Map<string, ContainerSummary> | undefined): Promise<FleetUnit> {
    const options = JSON.parse(r.options) as UnitOption[];
    const base: FleetUnit = { name: r.name, options, desiredState: r.desired_state };
    if (!cs) return { ...base, message: 'the engine is unreachable: current state unknown' };
    const c = cs.get(r.name);
    const rt = isTemplate(r.name) ? undefined : this.runtime(r);
    const notRunnable = rt && 'error' in rt ? rt.error : undefined;
    let current: DesiredState;
    if (isTemplate(r.name) || notRunnable) current = 'inactive';
    else if (c && ACTIVE.has(c.status)) current = 'launched';
    else if (r.desired_state === 'inactive') current = c ? 'loaded' : 'inactive';
    // docker run --rm: a stop is done once the container is gone, not when it has exited.
    else if (c && this.pending.has(r.name) && rt && !('error' in rt) && rt.autoRemove) current = 'launched';
    else current = 'loaded';
    const s = systemdState({ notRunnable: r.desired_state === 'inactive' ? undefined : notRunnable, error: r.error, waiting: r.waiting, status: c?.status, exitCode: r.desired_state === 'launched' ? await this.unitContainers.exitCode(c) : undefined });
    return { ...base, currentState: current, ...(current !== 'inactive' ? { machineID: this.machine.id } : {}), ...(s.message ? { message: s.message } : {}) };
  }

  async list(): Promise<FleetUnit[]> {
    const cs = await this.unitContainers.current();
    return Promise.all(this.store.rows().map((r) => this.toUnit(r, cs)));
  }

  async get(name: string): Promise<FleetUnit | undefined> {
    const r = this.store.row(name);
    return r ? this.toUnit(r, await this.unitContainers.current()) : undefined;
  }

  async states(): Promise<UnitStateRecord[]> {
    const cs = await this.unitContainers.current();
    if (!cs) throw new KibokoError('ENGINE_UNREACHABLE', 'the engine is unreachable: unit states are unknown', { hint: 'kiboko reconnects by itself; see /healthz' });
    const out: UnitStateRecord[] = [];
    for (const r of this.store.rows()) {
      if (isTemplate(r.name)) continue;
      const c = cs.get(r.name);
      if (r.desired_state === 'inactive' && !c) continue;
      const rt = this.runtime(r);
      const stopping = this.pending.has(r.name) && c !== undefined && ACTIVE.has(c.status);
      const s = stopping ? DEACTIVATING : systemdState({ notRunnable: 'error' in rt ? rt.error : undefined, error: r.error, waiting: r.waiting, status: c?.status, exitCode: await this.unitContainers.exitCode(c) });
      out.push({
        name: r.name,
        hash: unitHash(JSON.parse(r.options) as UnitOption[]),
        machineID: this.machine.id,
        systemdLoadState: 'loaded',
        systemdActiveState: s.active,
        systemdSubState: s.sub,
        ...(s.message ? { message: s.message } : {}),
      });
    }
    // Destroyed units whose containers are still being stopped and removed.
    for (const [name, p] of this.pending) {
      if (!p.gone || !cs.has(name)) continue;
      out.push({ name, hash: p.hash, machineID: this.machine.id, systemdLoadState: 'loaded', ...DEACTIVATING_RECORD });
    }
    return out.sort((a, b) => compareUnitNames(a.name, b.name));
  }

  async machines(): Promise<Machine[]> {
    return [structuredClone(this.machine)];
  }

  errorOf(name: string): string | undefined {
    const r = this.store.row(name);
    return r?.error ?? r?.waiting ?? undefined;
  }

  // ---- changing -------------------------------------------------------------------------------

  /**
   * Runs a change to one unit holding that unit's lock: changes to one unit are serialized, changes
   * to different units are not, so a unit whose start stalls (an image pull that hangs) never holds
   * up another's. A pass over other units (converge) only steps the ones no one holds.
   */
  private async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const release = await this.locks.acquire(name);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  async put(unit: { name: string; options: UnitOption[]; desiredState: DesiredState }): Promise<void> {
    await this.exclusive(unit.name, async () => {
      const old = this.store.row(unit.name);
      const json = JSON.stringify(unit.options);
      if (old && unitHash(JSON.parse(old.options) as UnitOption[]) !== unitHash(unit.options)) {
        // A new unit file under the same name: the old container goes (fleet stops the old unit).
        try {
          for (const c of (await this.unitContainers.byUnit()).get(unit.name) ?? []) await this.retire(old, c);
        } catch (err) {
          if (!isUnreachable(err)) throw err;
        }
      }
      this.store.upsert(unit.name, json, unit.desiredState);
      await this.convergeTolerant(unit.name);
    });
  }

  async setDesiredState(name: string, state: DesiredState): Promise<void> {
    if (state !== 'launched') {
      // A stop or unload, as fleet: recorded now, answered, the engine work done after.
      const r = this.store.row(name);
      if (!r) return;
      this.store.setDesiredState(name, state);
      this.afterAnswer(name, { hash: unitHash(JSON.parse(r.options) as UnitOption[]), gone: false }, () => this.convergeTolerant(name));
      return;
    }
    await this.exclusive(name, async () => {
      this.store.setDesiredState(name, state);
      await this.convergeTolerant(name);
    });
  }

  /** Runs `work` in turn with other changes, without making the caller wait; failures are logged and left on the unit. */
  private afterAnswer(name: string, mark: { hash: string; gone: boolean }, work: () => Promise<void>): void {
    this.pending.set(name, mark);
    const done: Promise<void> = this.exclusive(name, work)
      .catch((err: unknown) => this.log('warn', 'unit change failed after it was answered', { unit: name, error: asKibokoError(err).message }))
      .finally(() => {
        if (this.pending.get(name) === mark) this.pending.delete(name);
        this.inflight.delete(done);
      });
    this.inflight.add(done);
  }

  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  async remove(name: string): Promise<boolean> {
    const row = this.store.row(name);
    if (row) {
      // fleet's DELETE: the unit is gone from the registry at once; its container is stopped
      // (ExecStop, docker stop, ExecStopPost) and removed after the answer.
      this.store.delete(name);
      this.afterAnswer(name, { hash: unitHash(JSON.parse(row.options) as UnitOption[]), gone: true }, async () => {
        try {
          for (const c of (await this.unitContainers.byUnit()).get(name) ?? []) await this.retire(row, c);
        } catch (err) {
          if (!isUnreachable(err)) throw err; // the container goes with the next pass, as an orphan
        } finally {
          if (!this.store.row(name)) this.runtimes.delete(name);
        }
        await this.convergeTolerant(undefined); // units waiting on this one (Conflicts) may go now
      });
      return true;
    }
    return this.exclusive(name, async () => {
      const r = this.store.row(name);
      let had = false;
      try {
        for (const c of (await this.unitContainers.byUnit()).get(name) ?? []) {
          had = true;
          await this.retire(r, c);
        }
      } catch (err) {
        if (!isUnreachable(err)) throw err; // the container goes with the next pass, as an orphan
      }
      const existed = this.store.delete(name);
      this.runtimes.delete(name);
      await this.convergeTolerant(undefined); // units waiting on this one (Conflicts) may go now
      return existed || had;
    });
  }

  /** Brings every unit to its desired state (daemon start, periodic resync, engine back). */
  async reconcileAll(mode: ReconcileMode = 'periodic'): Promise<void> {
    await this.converge(mode); // each unit under its own lock; one held by a change is left to that change
  }

  private async convergeTolerant(focus: string | undefined): Promise<void> {
    try {
      await this.converge('periodic', focus);
    } catch (err) {
      const e = asKibokoError(err);
      if (focus) this.store.setError(focus, `${e.code === 'ENGINE_UNREACHABLE' ? 'the engine is unreachable (retried when it is back)' : 'reconcile failed'}: ${e.message}`);
      this.log('warn', 'reconcile failed', { unit: focus, error: e.message });
    }
  }

  /** One pass: planned by planReconcile, each unit decided by planUnitStep at its turn, applied here. */
  private async converge(mode: ReconcileMode, focus?: string): Promise<void> {
    const byUnit = await this.unitContainers.byUnit();
    const rows = focus === undefined ? this.store.rows() : this.store.affectedRows(focus, [...byUnit.keys()]);
    // With a focus, `rows` holds only the units a change can affect (see affectedRows), so a PUT
    // costs O(affected units), not O(all units); a full pass visits all.
    const plan = planReconcile(rows.map((r) => ({ name: r.name, requirements: parseRequirements(r.name, JSON.parse(r.options) as UnitOption[]) })), byUnit);
    for (const [name, cs] of plan.leftovers) {
      if (name !== focus && this.locks.held(name)) continue; // its own change is at work on it
      for (const c of cs) {
        this.log('info', 'removing leftover unit container', { unit: name, container: c.name });
        await this.engine.remove(c.id, { force: true }).catch((err: unknown) => this.log('warn', 'could not remove leftover unit container', { container: c.name, error: asKibokoError(err).message }));
      }
    }
    const launched = plan.launched;
    const byName = new Map(rows.map((r) => [r.name, r]));
    for (const name of plan.order) {
      // The focus's lock is the caller's; any other unit is stepped only if no one holds it.
      const release = name === focus ? () => undefined : this.locks.tryAcquire(name);
      if (!release) continue;
      try {
        const fresh = name === focus ? byName.get(name) : this.store.row(name); // it may have changed while we waited
        if (fresh) await this.step(fresh, plan.current.get(name), { mode, focus: name === focus, machine: this.machine, launched });
      } catch (err) {
        if (isUnreachable(err)) throw err;
        const e = asKibokoError(err);
        this.store.setError(name, e.message);
        this.log('warn', 'unit failed', { unit: name, error: e.message });
      } finally {
        release();
      }
    }
  }

  /** What planUnitStep needs to know of a unit (its MachineOf peers' desired states read from the store). */
  private facts(row: Row, c: ContainerSummary | undefined): UnitFacts {
    const template = isTemplate(row.name);
    const rt = template ? undefined : this.runtime(row);
    const options = JSON.parse(row.options) as UnitOption[];
    const requirements = parseRequirements(row.name, options);
    return {
      name: row.name,
      desired: row.desired_state,
      // Computed when read (only for a running container of a launched unit), as before the plan/apply split.
      get hash() {
        return unitHash(options);
      },
      error: row.error,
      waiting: row.waiting,
      template,
      notRunnable: rt && 'error' in rt ? rt.error : undefined,
      autoRemove: Boolean(rt && !('error' in rt) && rt.autoRemove),
      requirements,
      peers: new Map(requirements.machineOf.map((p) => [p, this.store.row(p)?.desired_state])),
      container: c ? { status: c.status, hash: c.labels[HASH_LABEL] } : undefined,
    };
  }

  /** Applies one unit's step; `ctx.launched` is updated with what really launched or stopped. */
  private async step(row: Row, c: ContainerSummary | undefined, ctx: StepContext & { launched: LaunchedUnit[] }): Promise<void> {
    const name = row.name;
    const facts = this.facts(row, c);
    const plan = planUnitStep(facts, ctx);
    const drop = () => {
      const i = ctx.launched.findIndex((u) => u.name === name);
      if (i >= 0) ctx.launched.splice(i, 1);
    };
    if (plan.kind === 'settle') {
      if (plan.container) await this.applyContainer(plan.container, row, c!);
      if (plan.drop) drop();
      if (plan.record) this.store.setError(name, plan.record.error, plan.record.waiting);
      return;
    }
    if (plan.onlyIfNeverStarted && (await this.unitContainers.everStarted(c!))) return; // exited on its own: shown as failed, not retried in a loop
    if (plan.kind === 'wait') {
      if (plan.container) await this.applyContainer(plan.container, row, c!);
      if (plan.announce) this.log('info', 'unit waits', { unit: name, reason: plan.reason });
      this.store.setError(name, null, plan.reason);
      return;
    }
    const rt = this.runtime(row);
    if ('error' in rt) return; // planUnitStep launches only runnable units
    try {
      const notes = await this.unitContainers.launch(name, rt);
      for (const n of [...plan.notes, ...notes]) this.log('info', 'unit note', { unit: name, note: n });
      this.store.setError(name, null, null);
      drop();
      ctx.launched.push({ name, conflicts: facts.requirements.conflicts });
    } catch (err) {
      if (isUnreachable(err)) throw err;
      this.store.setError(name, `start failed: ${asKibokoError(err).message}`);
      this.log('warn', 'unit start failed', { unit: name, error: asKibokoError(err).message });
    }
  }

  private async applyContainer(action: ContainerAction, row: Row, c: ContainerSummary): Promise<void> {
    if (action === 'retire') await this.retire(row, c);
    else if (action === 'stop') await this.stopUnit(row, this.runtime(row), c);
    else await this.engine.remove(c.id, { force: true });
  }

  /** ExecStop, the container stopped, ExecStopPost; a failing ExecStop line (without `-`) leaves the unit failed, as systemd does. */
  private async stopUnit(row: Row | undefined, rt: UnitRuntime | { error: string } | undefined, c: ContainerSummary): Promise<void> {
    const runtime = rt && !('error' in rt) ? rt : undefined;
    const failure = await this.unitContainers.stop(row?.name ?? c.labels[UNIT_LABEL] ?? '', runtime, c);
    if (row && this.store.row(row.name)) this.store.setError(row.name, failure ? `stop failed: ${failure}` : null);
  }

  /** Stops (if running) and removes a unit's container. */
  private async retire(row: Row | undefined, c: ContainerSummary): Promise<void> {
    if (ACTIVE.has(c.status)) await this.stopUnit(row, row && !isTemplate(row.name) ? this.runtime(row) : undefined, c);
    await this.engine.remove(c.id, { force: true }).catch((err: unknown) => {
      if (!(err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND')) throw err; // ExecStop may have removed it
    });
  }

  close(): void {
    this.store.close();
  }
}
