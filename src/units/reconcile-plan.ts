import type { ContainerStatus, ContainerSummary } from '../engine/index.js';
import type { DesiredState, Machine } from './api.js';
import { ACTIVE } from './unit-state.js';
import { placeOnMachine, placementOrder, type LaunchedUnit, type Requirements } from './xfleet.js';

/**
 * The engine registry's reconcile decisions, with no I/O: what a pass removes, in which order it
 * visits units, and what it does to each unit. `EngineRegistry` applies them (engine calls, the
 * store, locks, logs).
 *
 * A pass is planned in two parts because its decisions depend on what really happened before
 * them: a unit whose start fails is not launched, so a unit that Conflicts with it may launch and
 * a MachineOf follower must wait. `planReconcile` plans the pass (leftover containers, visit order,
 * the units launched at its start); `planUnitStep` decides one unit at its turn, from the units
 * launched so far.
 */

/**
 * `periodic`: keep launched units launched, launch those that wait (placement) or were never
 * started, but leave a container that exited on its own (systemd would not restart it either
 * without Restart=) and a failed start alone. `recover` (daemon start, engine back after a
 * restart): relaunch every launched unit that is not running, failed starts included.
 */
export type ReconcileMode = 'periodic' | 'recover';

/** A stored unit, as far as a pass needs it. */
export interface DesiredUnit {
  name: string;
  requirements: Requirements;
}

export interface ReconcilePlan {
  /** Containers to remove, by unit: all of a unit no longer stored, any beyond the first of a stored one. */
  leftovers: Map<string, ContainerSummary[]>;
  /** The container that counts for each stored unit that has one. */
  current: Map<string, ContainerSummary>;
  /** Units in the order they are stepped: MachineOf peers before their followers. */
  order: string[];
  /** Units whose container runs at the start of the pass (with their Conflicts). */
  launched: LaunchedUnit[];
}

/** `observed`: the registry's containers by unit, the one that counts first (UnitContainers.byUnit). */
export function planReconcile(desired: readonly DesiredUnit[], observed: ReadonlyMap<string, readonly ContainerSummary[]>): ReconcilePlan {
  const names = new Set(desired.map((u) => u.name));
  const leftovers = new Map<string, ContainerSummary[]>();
  const current = new Map<string, ContainerSummary>();
  for (const [name, cs] of observed) {
    const extra = names.has(name) ? cs.slice(1) : [...cs];
    if (extra.length) leftovers.set(name, extra);
    if (names.has(name) && cs[0]) current.set(name, cs[0]);
  }
  const launched = desired.filter((u) => ACTIVE.has(current.get(u.name)?.status ?? 'exited')).map((u) => ({ name: u.name, conflicts: u.requirements.conflicts }));
  const order = placementOrder(desired.map((u) => ({ name: u.name, machineOf: u.requirements.machineOf }))).map((u) => u.name);
  return { leftovers, current, order, launched };
}

/** One unit at its turn in a pass. */
export interface UnitFacts {
  name: string;
  desired: DesiredState;
  /** unitHash of its options (read only to compare with a running container's). */
  readonly hash: string;
  error: string | null;
  waiting: string | null;
  template: boolean;
  /** Why it cannot run as a container (its ExecStart is not docker run, …), if it cannot. */
  notRunnable: string | undefined;
  /** docker run --rm: a stopped unit leaves no container. */
  autoRemove: boolean;
  requirements: Requirements;
  /** The desired state of each MachineOf peer (undefined: no such unit). */
  peers: ReadonlyMap<string, DesiredState | undefined>;
  container: { status: ContainerStatus; hash: string | undefined } | undefined;
}

export interface StepContext {
  mode: ReconcileMode;
  /** The unit a change (PUT, DELETE) is about: it is started even after a failed start. */
  focus: boolean;
  machine: Machine;
  launched: readonly LaunchedUnit[];
}

/**
 * What to do to a container: `retire` (ExecStop, stop if running, remove), `stop` (ExecStop, stop,
 * ExecStopPost; the container stays), `remove` (force-remove, no unit commands: it cannot run).
 */
export type ContainerAction = 'retire' | 'stop' | 'remove';

/** The unit's error and waiting reason to record (a new failure, a wait, or nothing to report). */
export interface UnitRecord {
  error: string | null;
  waiting: string | null;
}

export type UnitStep =
  /** Bring the container in line (or leave it), drop the unit from the launched ones, record. */
  | { kind: 'settle'; container?: ContainerAction | undefined; drop: boolean; record?: UnitRecord | undefined }
  /**
   * Launch it (ExecStartPre, create/start, ExecStartPost). `onlyIfNeverStarted`: in a periodic pass,
   * a container that exited on its own is left alone; launch only if it never ran.
   */
  | { kind: 'launch'; onlyIfNeverStarted: boolean; notes: string[] }
  /** It cannot be placed here now: stop it if it runs, record why it waits (`announce`: a new reason, logged). */
  | { kind: 'wait'; onlyIfNeverStarted: boolean; container?: 'retire' | 'stop' | undefined; reason: string; announce: boolean };

const clearWaiting = (u: UnitFacts): UnitRecord | undefined => (u.waiting ? { error: u.error, waiting: null } : undefined);

/** The decision for one unit: desired state vs its container, placement vs the units launched so far. */
export function planUnitStep(u: UnitFacts, ctx: StepContext): UnitStep {
  const c = u.container;
  const running = Boolean(c && ACTIVE.has(c.status));
  if (u.template) return { kind: 'settle', container: c ? 'retire' : undefined, drop: false };
  if (u.notRunnable !== undefined) return { kind: 'settle', container: c ? 'remove' : undefined, drop: false };
  if (u.desired === 'inactive') return { kind: 'settle', container: c ? 'retire' : undefined, drop: true, record: clearWaiting(u) };
  if (u.desired === 'loaded') return { kind: 'settle', container: c && u.autoRemove ? 'retire' : running ? 'stop' : undefined, drop: true, record: clearWaiting(u) };
  const halt = u.autoRemove ? 'retire' : 'stop';
  if (running && c!.hash === u.hash) {
    const gone = u.requirements.machineOf.find((p) => u.peers.get(p) !== 'launched');
    if (gone !== undefined) return { kind: 'settle', container: halt, drop: true, record: { error: null, waiting: `stopped: ${gone} (MachineOf) is no longer launched` } };
    return { kind: 'settle', drop: false, record: u.waiting || u.error ? { error: null, waiting: null } : undefined }; // running as asked
  }
  // A container that exited on its own, or a failed start, is shown as failed, not retried in a loop:
  // only a change to the unit (focus), a recovery, or a container that never ran starts it again.
  const always = ctx.focus || ctx.mode === 'recover' || running;
  if (!always && u.error) return { kind: 'settle', drop: false };
  const onlyIfNeverStarted = !always && c !== undefined;
  const decision = placeOnMachine(u.name, u.requirements, ctx.machine, ctx.launched);
  if (!decision.ok) return { kind: 'wait', onlyIfNeverStarted, container: running ? halt : undefined, reason: decision.reason, announce: u.waiting !== decision.reason || Boolean(u.error) };
  return { kind: 'launch', onlyIfNeverStarted, notes: decision.notes };
}
