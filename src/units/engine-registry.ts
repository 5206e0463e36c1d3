import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { asKibokoError, KibokoError } from '../common/errors.js';
import { openDatabase, type Database } from '../common/sqlite.js';
import type { ContainerStatus, ContainerSummary, Engine } from '../engine/index.js';
import { unitHash, type DesiredState, type FleetUnit, type Machine, type UnitOption, type UnitRegistry, type UnitStateRecord } from './api.js';
import { runSequence, type CommandContext } from './commands.js';
import { HASH_LABEL, tryUnitRuntime, UNIT_LABEL, type HostMountPolicy, type UnitRuntime } from './container.js';
import { localMachine } from './machine.js';
import { isTemplate } from './name.js';
import { parseRequirements, placeOnMachine, placementOrder, type LaunchedUnit } from './xfleet.js';
import { pullImage } from '../registry/index.js';

export { UNIT_LABEL, HASH_LABEL } from './container.js';
/** Which daemon (state directory) a unit container belongs to, so two daemons never touch each other's units. */
export const REGISTRY_LABEL = 'kiboko.units.registry';

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

type Row = { name: string; options: string; desired_state: DesiredState; error: string | null; waiting: string | null };

const ACTIVE: ReadonlySet<ContainerStatus> = new Set(['running', 'restarting', 'paused']);
/** How /state shows a unit whose stop was answered while its container still runs (systemd's words). */
const DEACTIVATING_RECORD = { systemdActiveState: 'deactivating', systemdSubState: 'stop-sigterm', message: 'stopping: the change is recorded, the container is being stopped' } as const;
const DEACTIVATING = { active: DEACTIVATING_RECORD.systemdActiveState, sub: DEACTIVATING_RECORD.systemdSubState, message: DEACTIVATING_RECORD.message };
/** Docker reports `0001-01-01T00:00:00Z` for a container that never ran. */
const neverStarted = (startedAt: string) => !startedAt || startedAt.startsWith('0001-') || !(Date.parse(startedAt) > 0);
const isUnreachable = (err: unknown) => err instanceof KibokoError && err.code === 'ENGINE_UNREACHABLE';

/** systemd's view of a unit kiboko runs as a container (fleet's /state passes it through). */
export function systemdState(s: {
  notRunnable?: string | undefined;
  error?: string | null | undefined;
  waiting?: string | null | undefined;
  status?: ContainerStatus | undefined;
  exitCode?: number | undefined;
}): { active: string; sub: string; message?: string } {
  if (s.notRunnable) return { active: 'failed', sub: 'failed', message: `not runnable: ${s.notRunnable}` };
  if (s.status === 'running' || s.status === 'paused') return { active: 'active', sub: 'running' };
  if (s.status === 'restarting') return { active: 'activating', sub: 'auto-restart', message: 'the container is restarting (restart policy)' };
  if (s.error) return { active: 'failed', sub: 'failed', message: s.error };
  if (s.waiting) return { active: 'inactive', sub: 'dead', message: s.waiting };
  if ((s.status === 'exited' || s.status === 'dead') && s.exitCode !== undefined) {
    return s.exitCode === 0 ? { active: 'inactive', sub: 'dead', message: 'the container exited with code 0' } : { active: 'failed', sub: 'failed', message: `the container exited with code ${s.exitCode}` };
  }
  return { active: 'inactive', sub: 'dead' };
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
  private readonly db: Database;
  private readonly id: string;
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
    this.db = openDatabase(join(stateDir, 'units.db'));
    this.db.exec('CREATE TABLE IF NOT EXISTS units (name TEXT PRIMARY KEY, options TEXT NOT NULL, desired_state TEXT NOT NULL, error TEXT)');
    const cols = this.db.prepare('PRAGMA table_info(units)').all() as { name: string }[];
    if (!cols.some((c) => c.name === 'waiting')) this.db.exec('ALTER TABLE units ADD COLUMN waiting TEXT');
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('registry-id', randomBytes(8).toString('hex'));
    this.id = (this.db.prepare("SELECT value FROM meta WHERE key = 'registry-id'").get() as { value: string }).value;
  }

  validate(name: string, options: readonly UnitOption[]): string | undefined {
    const r = tryUnitRuntime(name, options, this.hostMounts);
    return 'error' in r && !this.allowAnyExecStart ? r.error : undefined;
  }

  // ---- reading --------------------------------------------------------------------------------

  private rows(): Row[] {
    return this.db.prepare('SELECT * FROM units ORDER BY name').all() as Row[];
  }

  /**
   * The rows a change to `focus` can affect: the unit itself, units that have containers (they may
   * conflict), and loaded/launched units with [X-Fleet] requirements (they may now be placeable;
   * inactive ones wait for nothing) — read without materialising every stored unit.
   */
  private affectedRows(focus: string, withContainers: readonly string[]): Row[] {
    return this.db
      .prepare(`SELECT * FROM units WHERE name = ? OR (desired_state <> 'inactive' AND instr(options, '"X-Fleet"') > 0) OR name IN (SELECT value FROM json_each(?)) ORDER BY name`)
      .all(focus, JSON.stringify(withContainers)) as Row[];
  }

  private row(name: string): Row | undefined {
    return this.db.prepare('SELECT * FROM units WHERE name = ?').get(name) as Row | undefined;
  }

  private runtime(r: Row): UnitRuntime | { error: string } {
    const cached = this.runtimes.get(r.name);
    if (cached && cached.options === r.options) return cached.runtime;
    const runtime = tryUnitRuntime(r.name, JSON.parse(r.options) as UnitOption[], this.hostMounts);
    this.runtimes.set(r.name, { options: r.options, runtime });
    return runtime;
  }

  /** This daemon's unit containers by unit name (several only if something went wrong; converge removes extras). */
  private async containersByUnit(): Promise<Map<string, ContainerSummary[]>> {
    const list = await this.engine.list({ all: true, labels: [UNIT_LABEL, `${REGISTRY_LABEL}=${this.id}`] });
    const by = new Map<string, ContainerSummary[]>();
    for (const c of list) by.set(c.labels[UNIT_LABEL]!, [...(by.get(c.labels[UNIT_LABEL]!) ?? []), c]);
    for (const cs of by.values()) cs.sort((a, b) => Number(ACTIVE.has(b.status)) - Number(ACTIVE.has(a.status)) || b.created - a.created);
    return by;
  }

  private async containers(): Promise<Map<string, ContainerSummary> | undefined> {
    try {
      return new Map([...(await this.containersByUnit())].map(([k, v]) => [k, v[0]!]));
    } catch (err) {
      if (isUnreachable(err)) return undefined;
      throw err;
    }
  }

  private async exitCode(c: ContainerSummary | undefined): Promise<number | undefined> {
    if (!c || (c.status !== 'exited' && c.status !== 'dead')) return undefined;
    const d = await this.engine.inspect(c.id).catch(() => undefined);
    return d && !neverStarted(d.startedAt) ? d.exitCode : undefined;
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
    const s = systemdState({ notRunnable: r.desired_state === 'inactive' ? undefined : notRunnable, error: r.error, waiting: r.waiting, status: c?.status, exitCode: r.desired_state === 'launched' ? await this.exitCode(c) : undefined });
    return { ...base, currentState: current, ...(current !== 'inactive' ? { machineID: this.machine.id } : {}), ...(s.message ? { message: s.message } : {}) };
  }

  async list(): Promise<FleetUnit[]> {
    const cs = await this.containers();
    return Promise.all(this.rows().map((r) => this.toUnit(r, cs)));
  }

  async get(name: string): Promise<FleetUnit | undefined> {
    const r = this.row(name);
    return r ? this.toUnit(r, await this.containers()) : undefined;
  }

  async states(): Promise<UnitStateRecord[]> {
    const cs = await this.containers();
    if (!cs) throw new KibokoError('ENGINE_UNREACHABLE', 'the engine is unreachable: unit states are unknown', { hint: 'kiboko reconnects by itself; see /healthz' });
    const out: UnitStateRecord[] = [];
    for (const r of this.rows()) {
      if (isTemplate(r.name)) continue;
      const c = cs.get(r.name);
      if (r.desired_state === 'inactive' && !c) continue;
      const rt = this.runtime(r);
      const stopping = this.pending.has(r.name) && c !== undefined && ACTIVE.has(c.status);
      const s = stopping ? DEACTIVATING : systemdState({ notRunnable: 'error' in rt ? rt.error : undefined, error: r.error, waiting: r.waiting, status: c?.status, exitCode: await this.exitCode(c) });
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
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async machines(): Promise<Machine[]> {
    return [structuredClone(this.machine)];
  }

  errorOf(name: string): string | undefined {
    const r = this.row(name);
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

  private setError(name: string, error: string | null, waiting: string | null = null): void {
    this.db.prepare('UPDATE units SET error = ?, waiting = ? WHERE name = ?').run(error, waiting, name);
  }

  async put(unit: { name: string; options: UnitOption[]; desiredState: DesiredState }): Promise<void> {
    await this.exclusive(unit.name, async () => {
      const old = this.row(unit.name);
      const json = JSON.stringify(unit.options);
      if (old && unitHash(JSON.parse(old.options) as UnitOption[]) !== unitHash(unit.options)) {
        // A new unit file under the same name: the old container goes (fleet stops the old unit).
        try {
          for (const c of (await this.containersByUnit()).get(unit.name) ?? []) await this.retire(old, c);
        } catch (err) {
          if (!isUnreachable(err)) throw err;
        }
      }
      this.db
        .prepare('INSERT INTO units (name, options, desired_state, error, waiting) VALUES (?, ?, ?, NULL, NULL) ON CONFLICT(name) DO UPDATE SET options = excluded.options, desired_state = excluded.desired_state, error = NULL, waiting = NULL')
        .run(unit.name, json, unit.desiredState);
      await this.convergeTolerant(unit.name);
    });
  }

  async setDesiredState(name: string, state: DesiredState): Promise<void> {
    if (state !== 'launched') {
      // A stop or unload, as fleet: recorded now, answered, the engine work done after.
      const r = this.row(name);
      if (!r) return;
      this.db.prepare('UPDATE units SET desired_state = ?, error = NULL, waiting = NULL WHERE name = ?').run(state, name);
      this.afterAnswer(name, { hash: unitHash(JSON.parse(r.options) as UnitOption[]), gone: false }, () => this.convergeTolerant(name));
      return;
    }
    await this.exclusive(name, async () => {
      this.db.prepare('UPDATE units SET desired_state = ?, error = NULL, waiting = NULL WHERE name = ?').run(state, name);
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
    const row = this.row(name);
    if (row) {
      // fleet's DELETE: the unit is gone from the registry at once; its container is stopped
      // (ExecStop, docker stop, ExecStopPost) and removed after the answer.
      this.db.prepare('DELETE FROM units WHERE name = ?').run(name);
      this.afterAnswer(name, { hash: unitHash(JSON.parse(row.options) as UnitOption[]), gone: true }, async () => {
        try {
          for (const c of (await this.containersByUnit()).get(name) ?? []) await this.retire(row, c);
        } catch (err) {
          if (!isUnreachable(err)) throw err; // the container goes with the next pass, as an orphan
        } finally {
          if (!this.row(name)) this.runtimes.delete(name);
        }
        await this.convergeTolerant(undefined); // units waiting on this one (Conflicts) may go now
      });
      return true;
    }
    return this.exclusive(name, async () => {
      const r = this.row(name);
      let had = false;
      try {
        for (const c of (await this.containersByUnit()).get(name) ?? []) {
          had = true;
          await this.retire(r, c);
        }
      } catch (err) {
        if (!isUnreachable(err)) throw err; // the container goes with the next pass, as an orphan
      }
      const existed = this.db.prepare('DELETE FROM units WHERE name = ?').run(name).changes > 0;
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
      if (focus) this.setError(focus, `${e.code === 'ENGINE_UNREACHABLE' ? 'the engine is unreachable (retried when it is back)' : 'reconcile failed'}: ${e.message}`);
      this.log('warn', 'reconcile failed', { unit: focus, error: e.message });
    }
  }

  private async converge(mode: ReconcileMode, focus?: string): Promise<void> {
    const byUnit = await this.containersByUnit();
    const rows = focus === undefined ? this.rows() : this.affectedRows(focus, [...byUnit.keys()]);
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
        const fresh = row.name === focus ? row : this.row(row.name); // it may have changed while we waited
        if (fresh) await this.step(fresh, current.get(row.name), mode, row.name === focus, launched);
      } catch (err) {
        if (isUnreachable(err)) throw err;
        const e = asKibokoError(err);
        this.setError(row.name, e.message);
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
      if (row.waiting) this.setError(name, row.error, null);
      return;
    }
    if (row.desired_state === 'loaded') {
      if (c && rt.autoRemove) await this.retire(row, c); // docker run --rm: a stopped unit leaves no container
      else if (running) await this.stopUnit(row, rt, c!);
      drop();
      if (row.waiting) this.setError(name, row.error, null);
      return;
    }
    // launched
    if (running && c!.labels[HASH_LABEL] === unitHash(options)) {
      const gone = req.machineOf.find((p) => this.row(p)?.desired_state !== 'launched');
      if (gone !== undefined) {
        if (rt.autoRemove) await this.retire(row, c!);
        else await this.stopUnit(row, rt, c!);
        drop();
        this.setError(name, null, `stopped: ${gone} (MachineOf) is no longer launched`);
        return;
      }
      if (row.waiting || row.error) this.setError(name, null, null); // running as asked: nothing to report
      return;
    }
    let attempt = focus || mode === 'recover' || running;
    if (!attempt) attempt = !row.error && (!c || !(await this.everStarted(c)));
    if (!attempt) return; // exited on its own, or its start failed: shown as failed, not retried in a loop
    const decision = placeOnMachine(name, req, this.machine, launched);
    if (!decision.ok) {
      if (running && rt.autoRemove) await this.retire(row, c!);
      else if (running) await this.stopUnit(row, rt, c!);
      if (row.waiting !== decision.reason || row.error) this.log('info', 'unit waits', { unit: name, reason: decision.reason });
      this.setError(name, null, decision.reason);
      return;
    }
    try {
      const notes = await this.launch(row, rt);
      for (const n of [...decision.notes, ...notes]) this.log('info', 'unit note', { unit: name, note: n });
      this.setError(name, null, null);
      drop();
      launched.push({ name, conflicts: req.conflicts });
    } catch (err) {
      if (isUnreachable(err)) throw err;
      this.setError(name, `start failed: ${asKibokoError(err).message}`);
      this.log('warn', 'unit start failed', { unit: name, error: asKibokoError(err).message });
    }
  }

  private async everStarted(c: ContainerSummary): Promise<boolean> {
    const d = await this.engine.inspect(c.id).catch(() => undefined);
    return Boolean(d && !neverStarted(d.startedAt));
  }

  private commandContext(unit: string): CommandContext {
    return {
      unit,
      ownerOf: async (container) => {
        try {
          const d = await this.engine.inspect(container);
          return d.labels[UNIT_LABEL] === undefined ? undefined : d.labels[REGISTRY_LABEL] === this.id ? d.labels[UNIT_LABEL] : `${d.labels[UNIT_LABEL]} (of another kiboko daemon)`;
        } catch {
          return undefined;
        }
      },
    };
  }

  /** ExecStartPre, the container (created when missing or stale; `docker run` pulls a missing image), ExecStartPost. */
  private async launch(row: Row, rt: UnitRuntime): Promise<string[]> {
    const ctx = this.commandContext(row.name);
    const notes = await runSequence(this.engine, rt.commands.ExecStartPre, ctx);
    let c = (await this.containersByUnit()).get(row.name)?.[0];
    if (c && c.labels[HASH_LABEL] !== rt.spec.labels![HASH_LABEL]) {
      await this.engine.remove(c.id, { force: true });
      c = undefined;
    }
    const id = c?.id ?? (await this.create(row.name, rt));
    await this.engine.start(id);
    try {
      notes.push(...(await runSequence(this.engine, rt.commands.ExecStartPost, ctx)));
    } catch (err) {
      await this.engine.stop(id, rt.stopTimeoutSeconds).catch(() => undefined);
      throw err;
    }
    return notes;
  }

  private async create(unit: string, rt: UnitRuntime): Promise<string> {
    const spec = { ...rt.spec, labels: { ...rt.spec.labels, [REGISTRY_LABEL]: this.id } };
    try {
      return (await this.engine.create(spec)).id;
    } catch (err) {
      if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND' && !(await this.engine.imageExists(spec.image))) {
        await pullImage(this.engine, spec.image); // as docker run does (with the user's registry credentials, retried)
        return (await this.engine.create(spec)).id;
      }
      if (err instanceof KibokoError && err.code === 'CONFLICT') {
        const owner = await this.commandContext(unit).ownerOf(spec.name);
        throw new KibokoError('CONFLICT', `the container name ${spec.name} is taken by ${owner ? `unit ${owner}` : 'a container kiboko does not manage'}`, {
          hint: owner ? 'give the units different --name values' : `remove it, or add ExecStartPre=-/usr/bin/docker rm -f ${spec.name} to the unit`,
          cause: err,
        });
      }
      throw err;
    }
  }

  /** ExecStop, the container stopped, ExecStopPost; a failing ExecStop line (without `-`) leaves the unit failed, as systemd does. */
  private async stopUnit(row: Row | undefined, rt: UnitRuntime | { error: string } | undefined, c: ContainerSummary): Promise<void> {
    const runtime = rt && !('error' in rt) ? rt : undefined;
    const ctx = this.commandContext(row?.name ?? c.labels[UNIT_LABEL] ?? '');
    let failure: string | undefined;
    if (runtime) {
      try {
        await runSequence(this.engine, runtime.commands.ExecStop, ctx);
      } catch (err) {
        if (isUnreachable(err)) throw err;
        failure = asKibokoError(err).message;
      }
    }
    const d = await this.engine.inspect(c.id).catch(() => undefined);
    if (d && ACTIVE.has(d.status)) {
      if (d.status === 'paused') await this.engine.unpause(c.id).catch(() => undefined);
      await this.engine.stop(c.id, runtime?.stopTimeoutSeconds ?? 10);
    }
    if (runtime) {
      try {
        await runSequence(this.engine, runtime.commands.ExecStopPost, ctx);
      } catch (err) {
        if (isUnreachable(err)) throw err;
        failure ??= asKibokoError(err).message;
      }
    }
    if (row && this.row(row.name)) this.setError(row.name, failure ? `stop failed: ${failure}` : null);
  }

  /** Stops (if running) and removes a unit's container. */
  private async retire(row: Row | undefined, c: ContainerSummary): Promise<void> {
    if (ACTIVE.has(c.status)) await this.stopUnit(row, row && !isTemplate(row.name) ? this.runtime(row) : undefined, c);
    await this.engine.remove(c.id, { force: true }).catch((err: unknown) => {
      if (!(err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND')) throw err; // ExecStop may have removed it
    });
  }

  close(): void {
    this.db.close();
  }
}

/** One lock per unit name: `acquire` waits for it, `tryAcquire` takes it only if it is free. */
class UnitLocks {
  private readonly holders = new Map<string, Promise<void>>();

  held(name: string): boolean {
    return this.holders.has(name);
  }

  async acquire(name: string): Promise<() => void> {
    for (;;) {
      const busy = this.holders.get(name);
      if (!busy) break;
      await busy;
    }
    return this.take(name);
  }

  tryAcquire(name: string): (() => void) | undefined {
    return this.holders.has(name) ? undefined : this.take(name);
  }

  private take(name: string): () => void {
    let done!: () => void;
    const p = new Promise<void>((resolve) => (done = resolve));
    this.holders.set(name, p);
    return () => {
      if (this.holders.get(name) === p) this.holders.delete(name);
      done();
    };
  }
}
