import type { DesiredState, FleetUnit, Machine, UnitOption, UnitRegistry, UnitStateRecord } from './api.js';
import { unitHash } from './api.js';
import { compareUnitNames } from './name.js';

/** An in-memory registry: units are "run" by moving their current state to the desired one. */
export class MemoryRegistry implements UnitRegistry {
  private readonly units = new Map<string, FleetUnit>();
  constructor(
    private readonly machine: Machine = { id: 'local', primaryIP: '127.0.0.1', metadata: {} },
    readonly validate?: (name: string, options: readonly UnitOption[]) => string | undefined,
  ) {}

  async list(): Promise<FleetUnit[]> {
    return this.sorted().map((u) => structuredClone(u));
  }

  async get(name: string): Promise<FleetUnit | undefined> {
    const u = this.units.get(name);
    return u ? structuredClone(u) : undefined;
  }

  async put(unit: { name: string; options: UnitOption[]; desiredState: DesiredState }): Promise<void> {
    this.units.set(unit.name, { ...structuredClone(unit), currentState: unit.desiredState, machineID: unit.desiredState === 'inactive' ? undefined : this.machine.id });
  }

  async setDesiredState(name: string, state: DesiredState): Promise<void> {
    const u = this.units.get(name);
    if (u) Object.assign(u, { desiredState: state, currentState: state, machineID: state === 'inactive' ? undefined : this.machine.id });
  }

  async remove(name: string): Promise<boolean> {
    return this.units.delete(name);
  }

  async states(): Promise<UnitStateRecord[]> {
    return this.sorted()
      .filter((u) => u.currentState && u.currentState !== 'inactive')
      .map((u) => ({
        name: u.name,
        hash: unitHash(u.options),
        machineID: this.machine.id,
        systemdLoadState: 'loaded',
        systemdActiveState: u.currentState === 'launched' ? 'active' : 'inactive',
        systemdSubState: u.currentState === 'launched' ? 'running' : 'dead',
      }));
  }

  async machines(): Promise<Machine[]> {
    return [structuredClone(this.machine)];
  }

  private sorted(): FleetUnit[] {
    return [...this.units.values()].sort((a, b) => compareUnitNames(a.name, b.name));
  }
}
