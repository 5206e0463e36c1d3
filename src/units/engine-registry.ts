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
import { parseRequirements, placeOnMachine, placementOrder, type LaunchedUnit } from './xfleet.js';

export { UNIT_LABEL, HASH_LABEL } from './container.js';
export { REGISTRY_LABEL } from './unit-containers.js';
export { systemdState } from './unit-state.js';

/**
 * `periodic`: keep launched units launched, launch those that wait (placement) or were never
 * started, but leave a container that exited on its own (systemd would not restart it either
 * without Restart=) and a failed start alone. `recover` (daemon start, engine back after a
 * restart): relaunch every launched unit that is not running, failed starts included.
 */
export type ReconcileMode = 'periodic' | 'recover';

export type LogFn = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

export interface UnitsRegistryOptions {
  /** Store units whose ExecStart is not `docker run` (they are reported as not runnable). */
  allowAnyExecStart?: boolean | undefined;
  /** This machine's fleet metadata (MachineMetadata= is matched against it). */
  metadata?: Readonly<Record<string, string>> | undefined;
  /** Host paths units may bind-mount (default none; true: any). */
  hostMounts?: HostMountPolicy | undefined;
  /** Overrides the machine (tests). */
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

  private async converge(mode: ReconcileMode, focus?: string): Promise<void> {
    const byUnit = await this.unitContainers.byUnit();
    const rows = focus === undefined ? this.store.rows() : this.store.affectedRows(focus, [...byUnit.keys()]);
    const names = new Set(rows.map((r) => r.name));
    // Leftovers: containers of deleted units, and any second container of a unit.
    for (const [name, cs] of byUnit) {
      if (name !== focus && this.locks.held(name)) continue; // its own change is at work on it
      const extra = names.has(name) ? cs.slice(1) : cs;
      for (const c of extra) {
        this.log('info', 'removing leftover unit container', { unit: name, container: c.name });
        await this.engine.remove(c.id, { force: true }).catch((err: unknown) => this.log('warn', 'could not remove leftover unit container', { container: c.name, error: asKibokoError(err).message }));
      }
    }
    const current = new Map([...byUnit].filter(([n]) => names.has(n)).map(([n, cs]) => [n, cs[0]!]));
    // With a focus, \`rows\` holds only the units a change can affect (see affectedRows), so a PUT
    // costs O(affected units), not O(all units); a full pass visits all.
    const visit = rows;
    const reqs = new Map(visit.map((r) => [r.name, parseRequirements(r.name, JSON.parse(r.options) as UnitOption[])]));
    const launched: LaunchedUnit[] = visit.filter((r) => ACTIVE.has(current.get(r.name)?.status ?? 'exited')).map((r) => ({ name: r.name, conflicts: reqs.get(r.name)!.conflicts }));
    for (const { row } of placementOrder(visit.map((row) => ({ name: row.name, machineOf: reqs.get(row.name)!.machineOf, row })))) {
      // The focus's lock is the caller's; any other unit is stepped only if no one holds it.
      const release = row.name === focus ? () => undefined : this.locks.tryAcquire(row.name);
      if (!release) continue;
      try {
        const fresh = row.name === focus ? row : this.store.row(row.name); // it may have changed while we waited
        if (fresh) await this.step(fresh, current.get(row.name), mode, row.name === focus, launched);
      } catch (err) {
        if (isUnreachable(err)) throw err;
        const e = asKibokoError(err);
        this.store.setError(row.name, e.message);
        this.log('warn', 'unit failed', { unit: row.name, error: e.message });
      } finally {
        release();
      }
    }
  }

  private async step(row: Row, c: ContainerSummary | undefined, mode: ReconcileMode, focus: boolean, launched: LaunchedUnit[]): Promise<void> {
    const name = row.name;
    const running = Boolean(c && ACTIVE.has(c.status));
    const drop = () => {
      const i = launched.findIndex((u) => u.name === name);
      if (i >= 0) launched.splice(i, 1);
    };
    if (isTemplate(name)) {
      if (c) await this.retire(row, c);
      return;
    }
    const rt = this.runtime(row);
    if ('error' in rt) {
      if (c) await this.engine.remove(c.id, { force: true });
      return;
    }
    const options = JSON.parse(row.options) as UnitOption[];
    const req = parseRequirements(name, options);
    if (row.desired_state === 'inactive') {
      if (c) await this.retire(row, c);
      drop();
      if (row.waiting) this.store.setError(name, row.error, null);
      return;
    }
    if (row.desired_state === 'loaded') {
      if (c && rt.autoRemove) await this.retire(row, c); // docker run --rm: a stopped unit leaves no container
      else if (running) await this.stopUnit(row, rt, c!);
      drop();
      if (row.waiting) this.store.setError(name, row.error, null);
      return;
    }
    // launched
    if (running && c!.labels[HASH_LABEL] === unitHash(options)) {
      const gone = req.machineOf.find((p) => this.store.row(p)?.desired_state !== 'launched');
      if (gone !== undefined) {
        if (rt.autoRemove) await this.retire(row, c!);
        else await this.stopUnit(row, rt, c!);
        drop();
        this.store.setError(name, null, `stopped: ${gone} (MachineOf) is no longer launched`);
        return;
      }
      if (row.waiting || row.error) this.store.setError(name, null, null); // running as asked: nothing to report
      return;
    }
    let attempt = focus || mode === 'recover' || running;
    if (!attempt) attempt = !row.error && (!c || !(await this.unitContainers.everStarted(c)));
    if (!attempt) return; // exited on its own, or its start failed: shown as failed, not retried in a loop
    const decision = placeOnMachine(name, req, this.machine, launched);
    if (!decision.ok) {
      if (running && rt.autoRemove) await this.retire(row, c!);
      else if (running) await this.stopUnit(row, rt, c!);
      if (row.waiting !== decision.reason || row.error) this.log('info', 'unit waits', { unit: name, reason: decision.reason });
      this.store.setError(name, null, decision.reason);
      return;
    }
    try {
      const notes = await this.unitContainers.launch(row.name, rt);
      for (const n of [...decision.notes, ...notes]) this.log('info', 'unit note', { unit: name, note: n });
      this.store.setError(name, null, null);
      drop();
      launched.push({ name, conflicts: req.conflicts });
    } catch (err) {
      if (isUnreachable(err)) throw err;
      this.store.setError(name, `start failed: ${asKibokoError(err).message}`);
      this.log('warn', 'unit start failed', { unit: name, error: asKibokoError(err).message });
    }
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
