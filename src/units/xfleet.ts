import type { Machine, UnitOption } from './types.js';
import { globMatch } from '../common/glob.js';
import { own } from '../common/own.js';

/**
 * fleet's `[X-Fleet]` scheduling options (job/job.go, unit/unit.go), parsed as fleet parses them —
 * quoted multi-value lines, deprecated `X-`/`X-Condition` names, `%n %N %p %i` replaced — and
 * evaluated for one machine (kiboko on one engine) or mapped to Swarm placement.
 */

export interface Requirements {
  machineID: string | undefined;
  machineOf: string[];
  conflicts: string[];
  /** key → accepted values: keys are ANDed, a key's values ORed (fleet's RequiredTargetMetadata). */
  metadata: Map<string, Set<string>>;
  global: boolean;
  replaces: string[];
}

/** Keys fleet accepts in [X-Fleet] (ValidateRequirements), deprecated spellings included. */
export const XFLEET_KEYS: Readonly<Record<string, string>> = {
  MachineID: 'MachineID',
  'X-ConditionMachineID': 'MachineID',
  'X-ConditionMachineBootID': 'MachineID',
  MachineOf: 'MachineOf',
  'X-ConditionMachineOf': 'MachineOf',
  Conflicts: 'Conflicts',
  'X-Conflicts': 'Conflicts',
  MachineMetadata: 'MachineMetadata',
  'X-ConditionMachineMetadata': 'MachineMetadata',
  Global: 'Global',
  Replaces: 'Replaces',
};

/** fleet's parseMultivalueLine: `"a=b" "c=d"` → [a=b, c=d]; a value not wrapped in quotes is one value. */
export function parseMultivalueLine(line: string): string[] {
  if (!(line.length >= 1 && line.startsWith('"') && line.endsWith('"'))) return [line];
  const values: string[] = [];
  let v = '';
  let quoted = false;
  for (const c of line) {
    if (c === '"') {
      quoted = !quoted;
      continue;
    }
    if (c === ' ' && !quoted) {
      values.push(v);
      v = '';
      continue;
    }
    v += c;
  }
  values.push(v);
  return values;
}

/** fleet's unitPrintf: plain replacement of %n %N %p %i (no %% escape, as fleet). */
export function unitPrintf(s: string, name: string): string {
  const at = name.indexOf('@');
  const dot = name.lastIndexOf('.');
  const base = dot > 0 ? name.slice(0, dot) : name;
  const prefix = at >= 0 ? name.slice(0, at) : base;
  const instance = at >= 0 ? base.slice(at + 1) : '';
  return s.replaceAll('%n', name).replaceAll('%N', base).replaceAll('%p', prefix).replaceAll('%i', instance);
}

const truthy = (s: string) => ['true', 'yes', '1', 'on', 't'].includes(s.toLowerCase());

export function parseRequirements(name: string, options: readonly UnitOption[]): Requirements {
  const values = new Map<string, string[]>();
  for (const o of options) {
    if (o.section !== 'X-Fleet') continue;
    const key = own(XFLEET_KEYS, o.name);
    if (!key) continue;
    values.set(key, [...(values.get(key) ?? []), ...parseMultivalueLine(o.value).map((v) => unitPrintf(v, name))]);
  }
  const metadata = new Map<string, Set<string>>();
  for (const pair of values.get('MachineMetadata') ?? []) {
    const s = pair.split('=');
    if (s.length !== 2 || !s[0] || !s[1]) continue;
    metadata.set(s[0], (metadata.get(s[0]) ?? new Set()).add(s[1]));
  }
  const global = values.get('Global') ?? [];
  return {
    machineID: values.get('MachineID')?.[0],
    machineOf: values.get('MachineOf') ?? [],
    conflicts: values.get('Conflicts') ?? [],
    metadata,
    global: global.length > 0 && truthy(global.at(-1)!),
    replaces: values.get('Replaces') ?? [],
  };
}

/** Go's path.Match, which fleet uses for Conflicts globs (one home: common/glob.ts). */
export { globMatch };


export interface LaunchedUnit {
  name: string;
  conflicts: readonly string[];
}

export type PlacementDecision = { ok: true; notes: string[] } | { ok: false; reason: string };

const fmtMeta = (m: Readonly<Record<string, string>>) => Object.entries(m).map(([k, v]) => `${k}=${v}`).join(',') || 'none';

/**
 * Whether a unit may be launched on this machine now, given the units already launched here.
 * Conflicts are checked both ways (as fleet's agent does); MachineOf needs its peers launched
 * here first; MachineMetadata must match the daemon's metadata; MachineID must be this machine.
 */
export function placeOnMachine(name: string, req: Requirements, machine: Machine, launched: readonly LaunchedUnit[]): PlacementDecision {
  if (req.machineID !== undefined && req.machineID !== machine.id) return { ok: false, reason: `MachineID=${req.machineID} is not this machine (${machine.id})` };
  for (const [key, accepted] of req.metadata) {
    const have = machine.metadata[key];
    if (have === undefined || !accepted.has(have)) {
      return { ok: false, reason: `MachineMetadata ${key}=${[...accepted].join('|')} does not match this machine (metadata: ${fmtMeta(machine.metadata)})` };
    }
  }
  for (const other of launched) {
    if (other.name === name) continue;
    const mine = req.conflicts.find((g) => globMatch(g, other.name));
    if (mine !== undefined) return { ok: false, reason: `Conflicts=${mine} matches launched unit ${other.name}` };
    const theirs = other.conflicts.find((g) => globMatch(g, name));
    if (theirs !== undefined) return { ok: false, reason: `launched unit ${other.name} conflicts with it (Conflicts=${theirs})` };
  }
  for (const peer of req.machineOf) {
    if (!launched.some((u) => u.name === peer)) return { ok: false, reason: `waiting for ${peer} (MachineOf) to be launched` };
  }
  const notes: string[] = [];
  if (req.replaces.length) notes.push(`Replaces=${req.replaces.join(' ')} has no effect on one machine`);
  return { ok: true, notes };
}

/** Units ordered so that MachineOf peers come before the units that follow them (cycles keep their order). */
export function placementOrder<T extends { name: string; machineOf: readonly string[] }>(units: readonly T[]): T[] {
  const byName = new Map(units.map((u) => [u.name, u]));
  const out: T[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (u: T) => {
    if (state.get(u.name)) return;
    state.set(u.name, 'visiting');
    for (const p of u.machineOf) {
      const peer = byName.get(p);
      if (peer && !state.get(p)) visit(peer);
    }
    state.set(u.name, 'done');
    out.push(u);
  };
  for (const u of units) visit(u);
  return out;
}

export interface SwarmPlacement {
  constraints: string[];
  global: boolean;
  /** Why the unit cannot be placed yet (it stays loaded), if so. */
  blocked?: string | undefined;
  notes: string[];
}

/**
 * fleet's options as Swarm placement: MachineMetadata k=v → `node.labels.k==v`, MachineID →
 * `node.id==…`, Global → mode global, MachineOf → the node of the peer's running task,
 * Conflicts → `node.id!=…` for each node that runs a conflicting unit.
 */
export function swarmPlacement(name: string, req: Requirements, nodesOf: (unit: string) => readonly string[] | undefined, launched: readonly LaunchedUnit[]): SwarmPlacement {
  const constraints: string[] = [];
  const notes: string[] = [];
  if (req.machineID !== undefined) constraints.push(`node.id==${req.machineID}`);
  for (const [key, accepted] of req.metadata) {
    if (accepted.size > 1) return { constraints, global: req.global, notes, blocked: `MachineMetadata lists several values for ${key} (${[...accepted].join(', ')}); Swarm constraints cannot express "any of"` };
    constraints.push(`node.labels.${key}==${[...accepted][0]}`);
  }
  for (const peer of req.machineOf) {
    const nodes = nodesOf(peer) ?? [];
    if (nodes.length === 0) return { constraints, global: req.global, notes, blocked: `waiting for ${peer} (MachineOf) to be launched` };
    constraints.push(`node.id==${nodes[0]}`);
  }
  const avoid = new Set<string>();
  for (const other of launched) {
    if (other.name === name) continue;
    if (req.conflicts.some((g) => globMatch(g, other.name)) || other.conflicts.some((g) => globMatch(g, name))) for (const n of nodesOf(other.name) ?? []) avoid.add(n);
  }
  for (const n of [...avoid].sort()) constraints.push(`node.id!=${n}`);
  if (req.replaces.length) notes.push(`Replaces=${req.replaces.join(' ')} is not enforced on Swarm`);
  return { constraints, global: req.global, notes };
}
