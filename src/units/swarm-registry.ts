import { createHash } from 'node:crypto';
import { asKibokoError, KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import { canonicalJson, DEFAULT_ROLLBACK, DEFAULT_UPDATE } from '../deploy/index.js';
import type { Engine, SwarmNode, SwarmService, SwarmServiceDefinition, SwarmTask } from '../engine/index.js';
import { unitHash, type DesiredState, type FleetUnit, type Machine, type UnitOption, type UnitStateRecord } from './api.js';
import { runSequence } from './commands.js';
import { HASH_LABEL, tryUnitRuntime, UNIT_LABEL, type HostMountPolicy, type UnitRuntime } from './container.js';
import type { LogFn, ReconcileMode, ReconcilingRegistry, UnitsRegistryOptions } from './engine-registry.js';
import { compareUnitNames, isTemplate } from './name.js';
import { parseRequirements, placementOrder, swarmPlacement, type LaunchedUnit } from './xfleet.js';
import { compareNames } from '../common/collate.js';

/** Labels on a unit's Swarm service: the service spec is where the unit lives. */
export const SWARM_LABELS = {
  unit: UNIT_LABEL,
  hash: HASH_LABEL,
  options: 'kiboko.units.options',
  desired: 'kiboko.units.desired-state',
  /** Hash of the service definition kiboko wrote, to update only on change. */
  spec: 'kiboko.units.spec',
  mode: 'kiboko.units.mode',
} as const;

/** A never-pulled image for services that only record a unit (templates, units that cannot run). */
export const RECORD_IMAGE = 'kiboko/unit-record:none';

/** Swarm service names are DNS labels (≤ 63, letters, digits, `-`); a hash of the unit name keeps them distinct. */
export function serviceName(unit: string): string {
  const dot = unit.lastIndexOf('.');
  const slug = (dot > 0 ? unit.slice(0, dot) : unit).replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 55) || 'unit';
  return `${slug}-${createHash('sha1').update(unit).digest('hex').slice(0, 6)}`;
}

interface StoredUnit {
  name: string;
  options: UnitOption[];
  desired: DesiredState;
  service: SwarmService | undefined;
}

/** The cluster as the read side sees it: the nodes that are not down, and the one this daemon's engine is. */
interface Cluster {
  live: ReadonlySet<string>;
  self: string;
}

/**
 * A Swarm node as fleet reports a machine: its node id (what MachineID= and `node.id` constraints
 * name), its address, and its node labels as metadata (what MachineMetadata= matches, as
 * `node.labels.*` constraints). The host name is not metadata: MachineMetadata=hostname=… would not match it.
 */
export function nodeMachine(node: SwarmNode): Machine {
  return { id: node.id, primaryIP: node.addr, metadata: { ...node.labels } };
}

const DESIRED: readonly string[] = ['inactive', 'loaded', 'launched'];
const RUNNING_TASK = new Set(['running']);
const STARTING_TASK = new Set(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting']);

/**
 * The service definition of a unit. Launched (and placeable): one replica, or mode global for
 * Global=true, with the unit's placement constraints. Otherwise (inactive, loaded, a template, a
 * unit that cannot run, one that waits for placement) the service only records the unit: 0
 * replicas, no ports or networks, so it can never clash with a running one.
 */
export function unitServiceDefinition(
  unit: { name: string; options: readonly UnitOption[]; desired: DesiredState },
  runtime: UnitRuntime | { error: string } | undefined,
  placement: { constraints: readonly string[]; global: boolean } | undefined,
): SwarmServiceDefinition {
  const rt = runtime && !('error' in runtime) ? runtime : undefined;
  const run = Boolean(rt && placement && unit.desired === 'launched' && !isTemplate(unit.name));
  const s = rt?.service;
  const mode = run && placement!.global ? 'global' : 'replicated';
  const def: SwarmServiceDefinition = {
    name: serviceName(unit.name),
    image: s?.image ?? RECORD_IMAGE,
    entrypoint: s?.entrypoint,
    command: s?.command,
    env: s ? Object.entries(s.environment).map(([k, v]) => `${k}=${v}`) : [],
    labels: {
      [LABELS.managed]: 'true',
      [SWARM_LABELS.unit]: unit.name,
      [SWARM_LABELS.hash]: unitHash(unit.options),
      [SWARM_LABELS.options]: JSON.stringify(unit.options),
      [SWARM_LABELS.desired]: unit.desired,
      [SWARM_LABELS.mode]: mode,
    },
    containerLabels: { ...(s?.labels ?? {}), [LABELS.managed]: 'true', [UNIT_LABEL]: unit.name, [HASH_LABEL]: unitHash(unit.options) },
    healthcheck: s?.healthcheck,
    user: s?.user,
    workingDir: s?.workingDir,
    stopSignal: s?.stopSignal,
    stopGracePeriodMs: s?.stopGracePeriodMs,
    mounts: run ? s!.volumes.map((v) => ({ type: v.type === 'bind' ? ('bind' as const) : ('volume' as const), source: v.type === 'anonymous' ? undefined : v.source, target: v.target, readOnly: v.readOnly })) : [],
    networks: run ? s!.networks.filter((n) => n !== 'default').map((n) => ({ target: n, aliases: [] })) : [],
    ports: run ? s!.ports.map((p) => ({ target: p.target, published: p.published, protocol: p.protocol })) : [],
    replicas: run && mode === 'replicated' ? 1 : 0,
    update: DEFAULT_UPDATE,
    rollback: DEFAULT_ROLLBACK,
    // Swarm keeps a service at its replica count (also across node and engine restarts); on-failure is kept.
    restart: s?.restart === 'on-failure' ? 'on-failure' : 'any',
    mode,
    constraints: run ? [...placement!.constraints] : [],
  };
  return { ...def, labels: { ...def.labels, [SWARM_LABELS.spec]: createHash('sha1').update(canonicalJson(def)).digest('hex') } };
}

/**
 * fleet's units on a Swarm: each unit is a Swarm service whose labels hold the unit (name,
 * options, desired state, hash), so the cluster's own spec is the store and another manager —
 * or this daemon after a restart — finds every unit there. Loaded and inactive units are
 * services with 0 replicas; [X-Fleet] options become placement (constraints, mode global).
 */
export class SwarmRegistry implements ReconcilingRegistry {
  readonly backend = 'swarm' as const;
  private readonly allowAnyExecStart: boolean;
  private readonly hostMounts: HostMountPolicy;
  private readonly log: LogFn;
  private readonly errors = new Map<string, string>();
  private readonly waiting = new Map<string, string>();
  private readonly lock: { tail: Promise<unknown> } = { tail: Promise.resolve() };

  constructor(
    private readonly engine: Engine,
    options: UnitsRegistryOptions = {},
  ) {
    this.allowAnyExecStart = Boolean(options.allowAnyExecStart);
    this.hostMounts = options.hostMounts ?? false;
    this.log = options.log ?? (() => undefined);
  }

  validate(name: string, options: readonly UnitOption[]): string | undefined {
    const r = tryUnitRuntime(name, options, this.hostMounts);
    return 'error' in r && !this.allowAnyExecStart ? r.error : undefined;
  }

  private async stored(): Promise<{ units: StoredUnit[]; extras: SwarmService[] }> {
    const services = await this.engine.listServices([SWARM_LABELS.unit]);
    const units = new Map<string, StoredUnit>();
    const extras: SwarmService[] = [];
    for (const s of services.sort((a, b) => compareNames(a.id, b.id))) {
      const name = s.labels[SWARM_LABELS.unit]!;
      let options: UnitOption[];
      try {
        options = JSON.parse(s.labels[SWARM_LABELS.options] ?? '[]') as UnitOption[];
      } catch {
        options = [];
      }
      const desired = (DESIRED.includes(s.labels[SWARM_LABELS.desired] ?? '') ? s.labels[SWARM_LABELS.desired] : 'inactive') as DesiredState;
      if (units.has(name) || s.name !== serviceName(name)) extras.push(s);
      else units.set(name, { name, options, desired, service: s });
    }
    return { units: [...units.values()].sort((a, b) => compareUnitNames(a.name, b.name)), extras };
  }

  private async tasksOf(service: SwarmService | undefined): Promise<SwarmTask[]> {
    if (!service) return [];
    return (await this.engine.listTasks(service.id)).filter((t) => t.desiredState === 'running' || RUNNING_TASK.has(t.state));
  }

  private async cluster(): Promise<Cluster> {
    const live = (await this.engine.listNodes()).filter((n) => n.state !== 'down');
    return { live: new Set(live.map((n) => n.id)), self: (live.find((n) => n.self) ?? live[0])?.id ?? '' };
  }

  /**
   * The machines a unit is on, as fleet schedules a unit to a machine: the node of its task (each
   * node of a global unit's tasks). Without a task on a node, a launched unit that can start is not
   * scheduled yet (no machine, as in fleet); any other — loaded (0 replicas), a failed start (its
   * ExecStartPre ran through this engine), a unit that cannot run — is held by the managers and
   * named as the node of the engine this daemon talks to.
   */
  private machinesOf(u: StoredUnit, rt: UnitRuntime | { error: string } | undefined, tasks: readonly SwarmTask[], c: Cluster): string[] {
    const running = (t: SwarmTask) => (RUNNING_TASK.has(t.state) ? 0 : 1);
    const on = [...new Set([...tasks].sort((a, b) => running(a) - running(b)).map((t) => t.nodeId ?? ''))].filter((id) => c.live.has(id));
    if (on.length) return on;
    const scheduling = u.desired === 'launched' && rt !== undefined && !('error' in rt) && !this.errors.has(u.name);
    return scheduling || !c.self ? [] : [c.self];
  }

  private async toUnit(u: StoredUnit, c: Cluster): Promise<FleetUnit> {
    const tasks = u.desired === 'launched' ? await this.tasksOf(u.service) : [];
    const running = tasks.some((t) => RUNNING_TASK.has(t.state));
    const rt = isTemplate(u.name) ? undefined : tryUnitRuntime(u.name, u.options, this.hostMounts);
    const current: DesiredState = isTemplate(u.name) || (rt && 'error' in rt) || u.desired === 'inactive' ? 'inactive' : running ? 'launched' : 'loaded';
    const message = this.messageOf(u, rt, tasks);
    // fleet gives a global unit no machine (it is on every one); /state has one record per node.
    const machine = current === 'inactive' || parseRequirements(u.name, u.options).global ? undefined : this.machinesOf(u, rt, tasks, c)[0];
    return { name: u.name, options: u.options, desiredState: u.desired, currentState: current, ...(machine ? { machineID: machine } : {}), ...(message ? { message } : {}) };
  }

  private messageOf(u: StoredUnit, rt: UnitRuntime | { error: string } | undefined, tasks: readonly SwarmTask[]): string | undefined {
    if (rt && 'error' in rt) return u.desired === 'inactive' ? undefined : `not runnable: ${rt.error}`;
    const e = this.errors.get(u.name) ?? this.waiting.get(u.name);
    if (e) return e;
    const t = tasks.find((x) => !RUNNING_TASK.has(x.state));
    return t && !tasks.some((x) => RUNNING_TASK.has(x.state)) ? `task ${t.state}${t.error ? `: ${t.error}` : t.message ? `: ${t.message}` : ''}` : undefined;
  }

  async list(): Promise<FleetUnit[]> {
    const [{ units }, c] = await Promise.all([this.stored(), this.cluster()]);
    return Promise.all(units.map((u) => this.toUnit(u, c)));
  }

  async get(name: string): Promise<FleetUnit | undefined> {
    const u = (await this.stored()).units.find((x) => x.name === name);
    return u ? this.toUnit(u, await this.cluster()) : undefined;
  }

  /** One record per unit and machine it is on (a global unit: each node of its tasks); a unit not scheduled yet has none, as in fleet. */
  async states(): Promise<UnitStateRecord[]> {
    const [{ units }, c] = await Promise.all([this.stored(), this.cluster()]);
    const out: UnitStateRecord[] = [];
    for (const u of units) {
      if (isTemplate(u.name) || u.desired === 'inactive') continue;
      const tasks = u.desired === 'launched' ? await this.tasksOf(u.service) : [];
      const rt = tryUnitRuntime(u.name, u.options, this.hostMounts);
      const on = this.machinesOf(u, rt, tasks, c);
      const global = parseRequirements(u.name, u.options).global;
      for (const machineID of global ? [...on].sort() : on.slice(0, 1)) {
        const here = global ? tasks.filter((t) => t.nodeId === machineID) : tasks;
        const message = this.messageOf(u, rt, here);
        const [active, sub] = this.activeOf(u, rt, here);
        out.push({ name: u.name, hash: unitHash(u.options), machineID, systemdLoadState: 'loaded', systemdActiveState: active, systemdSubState: sub, ...(message ? { message } : {}) });
      }
    }
    return out;
  }

  /** systemd's active and sub state of a unit from its tasks. */
  private activeOf(u: StoredUnit, rt: UnitRuntime | { error: string }, tasks: readonly SwarmTask[]): [string, string] {
    if ('error' in rt || this.errors.has(u.name)) return ['failed', 'failed'];
    if (tasks.some((t) => RUNNING_TASK.has(t.state))) return ['active', 'running'];
    if (tasks.some((t) => STARTING_TASK.has(t.state))) return ['activating', 'start'];
    if (tasks.some((t) => t.state === 'failed' || t.state === 'rejected')) return ['failed', 'failed'];
    return ['inactive', 'dead'];
  }

  /** The Swarm's nodes that are not down (fleet lists the machines whose agent is alive), by id. */
  async machines(): Promise<Machine[]> {
    return (await this.engine.listNodes())
      .filter((n) => n.state !== 'down')
      .map(nodeMachine)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  errorOf(name: string): string | undefined {
    return this.errors.get(name) ?? this.waiting.get(name);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.tail.then(fn, fn);
    this.lock.tail = run.catch(() => undefined);
    return run;
  }

  async put(unit: { name: string; options: UnitOption[]; desiredState: DesiredState }): Promise<void> {
    await this.exclusive(async () => {
      this.errors.delete(unit.name);
      this.waiting.delete(unit.name);
      await this.converge('periodic', { name: unit.name, options: unit.options, desired: unit.desiredState, service: undefined });
    });
  }

  async setDesiredState(name: string, state: DesiredState): Promise<void> {
    await this.exclusive(async () => {
      const u = (await this.stored()).units.find((x) => x.name === name);
      if (!u) return;
      this.errors.delete(name);
      this.waiting.delete(name);
      await this.converge('periodic', { ...u, desired: state });
    });
  }

  async remove(name: string): Promise<boolean> {
    return this.exclusive(async () => {
      const { units } = await this.stored();
      const u = units.find((x) => x.name === name);
      if (!u) return false;
      await this.engine.removeService(u.service!.id);
      this.errors.delete(name);
      this.waiting.delete(name);
      await this.converge('periodic').catch((err: unknown) => this.log('warn', 'reconcile failed', { error: asKibokoError(err).message }));
      return true;
    });
  }

  async reconcileAll(mode: ReconcileMode = 'periodic'): Promise<void> {
    await this.exclusive(() => this.converge(mode));
  }

  /** Reads every unit from the services (`change` overrides one), then writes the services whose definition differs. */
  private async converge(mode: ReconcileMode, change?: StoredUnit): Promise<void> {
    const { units, extras } = await this.stored();
    for (const s of extras) {
      this.log('info', 'removing duplicate unit service', { service: s.name });
      await this.engine.removeService(s.id).catch(() => undefined);
    }
    if (change) {
      const i = units.findIndex((u) => u.name === change.name);
      if (i >= 0) units[i] = { ...change, service: units[i]!.service };
      else units.push(change);
    }
    const nodes = new Map<string, string[]>();
    for (const u of units) {
      if (u.desired !== 'launched' || !u.service || u.service.labels[SWARM_LABELS.desired] !== 'launched') continue;
      const running = (await this.tasksOf(u.service)).filter((t) => RUNNING_TASK.has(t.state) && t.nodeId);
      if (running.length) nodes.set(u.name, running.map((t) => t.nodeId!));
    }
    const reqs = new Map(units.map((u) => [u.name, parseRequirements(u.name, u.options)]));
    const launched: LaunchedUnit[] = [...nodes.keys()].map((n) => ({ name: n, conflicts: reqs.get(n)!.conflicts }));
    for (const { u } of placementOrder(units.map((u) => ({ name: u.name, machineOf: reqs.get(u.name)!.machineOf, u })))) {
      try {
        await this.write(u, reqs.get(u.name)!, nodes, launched, mode, u.name === change?.name);
      } catch (err) {
        const e = asKibokoError(err);
        if (e.code === 'ENGINE_UNREACHABLE') throw e;
        this.errors.set(u.name, e.message);
        this.log('warn', 'unit failed', { unit: u.name, error: e.message });
      }
    }
  }

  private async write(u: StoredUnit, req: ReturnType<typeof parseRequirements>, nodes: Map<string, string[]>, launched: LaunchedUnit[], mode: ReconcileMode, focus: boolean): Promise<void> {
    const rt = isTemplate(u.name) ? undefined : tryUnitRuntime(u.name, u.options, this.hostMounts);
    let placement: { constraints: string[]; global: boolean } | undefined;
    if (u.desired === 'launched' && rt && !('error' in rt)) {
      const p = swarmPlacement(u.name, req, (n) => nodes.get(n), launched);
      if (p.blocked) this.waiting.set(u.name, p.blocked);
      else {
        this.waiting.delete(u.name);
        placement = p;
      }
    } else this.waiting.delete(u.name);
    // A failed start stays failed until asked again (a PUT) or recovered (daemon start, engine back).
    if (placement && this.errors.has(u.name) && !focus && mode !== 'recover') placement = undefined;
    const def = unitServiceDefinition(u, rt, placement);
    const have = u.service;
    const startsNow = def.replicas > 0 || def.mode === 'global';
    const wasRunning = Boolean(have && have.labels[SWARM_LABELS.desired] === 'launched' && (have.replicas > 0 || have.labels[SWARM_LABELS.mode] === 'global'));
    if (have && have.labels[SWARM_LABELS.spec] === def.labels[SWARM_LABELS.spec]) return;
    if (startsNow && !wasRunning && rt && !('error' in rt)) {
      try {
        await runSequence(this.engine, rt.commands.ExecStartPre, { unit: u.name, ownerOf: async () => undefined, swarm: true });
      } catch (err) {
        this.errors.set(u.name, `start failed: ${asKibokoError(err).message}`);
        const record = unitServiceDefinition(u, rt, undefined);
        if (!have) await this.engine.createService(record);
        else if (have.labels[SWARM_LABELS.spec] !== record.labels[SWARM_LABELS.spec]) await this.replace(have, record);
        return;
      }
    }
    if (!have) await this.engine.createService(def);
    else await this.replace(have, def);
    if (startsNow) {
      this.errors.delete(u.name);
      launched.push({ name: u.name, conflicts: req.conflicts });
    }
  }

  /** Updates a service in place, or recreates it when the mode changes (Swarm cannot switch replicated ↔ global). */
  private async replace(have: SwarmService, def: SwarmServiceDefinition): Promise<void> {
    if ((have.labels[SWARM_LABELS.mode] ?? 'replicated') !== def.mode) {
      await this.engine.removeService(have.id);
      await this.engine.createService(def);
      return;
    }
    try {
      await this.engine.updateService(have.id, have.version, def);
    } catch (err) {
      if (!(err instanceof KibokoError && err.code === 'CONFLICT')) throw err;
      const fresh = await this.engine.inspectService(have.id); // updated meanwhile (another manager): retry once
      await this.engine.updateService(fresh.id, fresh.version, def);
    }
  }

  /** Every change is done before it is answered (Swarm converges on its own). */
  async settled(): Promise<void> {}

  close(): void {
    // the cluster holds the state; nothing to release
  }
}
