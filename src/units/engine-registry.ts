import { hostname } from 'node:os';
import { join } from 'node:path';
import { asKibokoError, KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import { openDatabase, type Database } from '../common/sqlite.js';
import { fromOptions, parseExec, translateUnits, volumeMounts, type ServiceSpec } from '../deploy/index.js';
import type { ContainerSpec, ContainerSummary, Engine } from '../engine/index.js';
import { unitHash, type DesiredState, type FleetUnit, type Machine, type UnitOption, type UnitRegistry, type UnitStateRecord } from './api.js';
import { isTemplate } from './name.js';

const UNIT_LABEL = 'kiboko.units.unit';
const HASH_LABEL = 'kiboko.units.hash';

/** The container a unit runs: its `docker run` ExecStart translated, named by `--name` (specifiers expanded). */
export function unitContainer(name: string, options: readonly UnitOption[]): { spec: ContainerSpec & { name: string }; service: ServiceSpec } {
  // Docker names allow no `:`, yet fleet unit names may hold one (app:1.0.0@1.service) and units
  // name their containers `--name %p-%i`: specifiers expand against a Docker-safe alias.
  const alias = name.replace(/[^A-Za-z0-9_.@-]/g, '-');
  const config = translateUnits([{ name: alias, unit: fromOptions(options), file: name }], { projectName: 'units' });
  const service = config.services[0]!;
  const exec = options.filter((o) => o.section === 'Service' && o.name === 'ExecStart').at(-1)!;
  const argv = parseExec(exec.value, { unitName: alias, where: `${name} ExecStart` })[0]!.argv;
  const i = argv.findIndex((a) => a === '--name' || a.startsWith('--name='));
  const explicit = i < 0 ? undefined : argv[i]!.startsWith('--name=') ? argv[i]!.slice('--name='.length) : argv[i + 1];
  // Docker names allow [A-Za-z0-9_.-] only; fleet names such as `app:1.0.0@1` expand `%p-%i` to more.
  const containerName = (explicit ?? `kiboko-unit-${name}`).replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  const { binds, anonymous } = volumeMounts(service.volumes, (named) => named);
  const nets = service.networks.filter((n) => n !== 'default');
  return {
    service,
    spec: {
      name: containerName,
      image: service.image,
      cmd: service.command,
      entrypoint: service.entrypoint,
      env: Object.entries(service.environment).map(([k, v]) => `${k}=${v}`),
      labels: { ...service.labels, [LABELS.managed]: 'true', [UNIT_LABEL]: name, [HASH_LABEL]: unitHash(options) },
      ports: service.ports,
      binds,
      volumes: anonymous,
      ...(nets.length ? { networks: nets.map((n) => ({ name: n })) } : {}),
      healthcheck: service.healthcheck,
      restartPolicy: { name: service.restart },
      user: service.user,
      workingDir: service.workingDir,
      stopSignal: service.stopSignal,
      stopTimeout: service.stopGracePeriodMs === undefined ? undefined : Math.ceil(service.stopGracePeriodMs / 1000),
    } as ContainerSpec & { name: string },
  };
}

type Row = { name: string; options: string; desired_state: DesiredState; error: string | null };

/**
 * fleet's units on one Docker engine: units live in SQLite under the state directory and each
 * is reconciled to a container — inactive: none; loaded: created, stopped; launched: running —
 * found again by its label after a daemon restart, so nothing is duplicated. A failed start is
 * kept and shown (currentState stays `loaded`, the state record says `failed`).
 */
export class EngineRegistry implements UnitRegistry {
  private readonly db: Database;

  constructor(
    private readonly engine: Engine,
    stateDir: string,
    private readonly allowAnyExecStart = false,
  ) {
    this.db = openDatabase(join(stateDir, 'units.db'));
    this.db.exec('CREATE TABLE IF NOT EXISTS units (name TEXT PRIMARY KEY, options TEXT NOT NULL, desired_state TEXT NOT NULL, error TEXT)');
  }

  validate(name: string, options: readonly UnitOption[]): string | undefined {
    if (isTemplate(name)) return undefined; // templates are stored, never run
    try {
      unitContainer(name, options);
      return undefined;
    } catch (err) {
      const e = asKibokoError(err);
      if (this.allowAnyExecStart) return undefined;
      return `${e.message}${e.hint ? ` — ${e.hint}` : ''}`;
    }
  }

  private rows(): Row[] {
    return this.db.prepare('SELECT * FROM units ORDER BY name').all() as Row[];
  }

  private async containers(): Promise<Map<string, ContainerSummary>> {
    const list = await this.engine.list({ all: true, labels: [UNIT_LABEL] });
    return new Map(list.map((c) => [c.labels[UNIT_LABEL]!, c]));
  }

  private toUnit(r: Row, c: ContainerSummary | undefined, machine: string): FleetUnit {
    const current: DesiredState = !c ? 'inactive' : c.status === 'running' || c.status === 'restarting' ? 'launched' : 'loaded';
    return { name: r.name, options: JSON.parse(r.options) as UnitOption[], desiredState: r.desired_state, currentState: current, ...(c ? { machineID: machine } : {}) };
  }

  async list(): Promise<FleetUnit[]> {
    const cs = await this.containers();
    const m = (await this.machine()).id;
    return this.rows().map((r) => this.toUnit(r, cs.get(r.name), m));
  }

  async get(name: string): Promise<FleetUnit | undefined> {
    const r = this.db.prepare('SELECT * FROM units WHERE name = ?').get(name) as Row | undefined;
    if (!r) return undefined;
    return this.toUnit(r, (await this.containers()).get(name), (await this.machine()).id);
  }

  async put(unit: { name: string; options: UnitOption[]; desiredState: DesiredState }): Promise<void> {
    this.db.prepare('INSERT INTO units (name, options, desired_state, error) VALUES (?, ?, ?, NULL) ON CONFLICT(name) DO UPDATE SET options = excluded.options, desired_state = excluded.desired_state, error = NULL').run(unit.name, JSON.stringify(unit.options), unit.desiredState);
    await this.reconcile(unit.name);
  }

  async setDesiredState(name: string, state: DesiredState): Promise<void> {
    this.db.prepare('UPDATE units SET desired_state = ?, error = NULL WHERE name = ?').run(state, name);
    await this.reconcile(name);
  }

  async remove(name: string): Promise<boolean> {
    const existed = this.db.prepare('DELETE FROM units WHERE name = ?').run(name).changes > 0;
    const c = (await this.containers()).get(name);
    if (c) await this.engine.remove(c.id, { force: true });
    return existed || Boolean(c);
  }

  async states(): Promise<UnitStateRecord[]> {
    const cs = await this.containers();
    const m = (await this.machine()).id;
    return this.rows()
      .filter((r) => cs.has(r.name) || r.error)
      .map((r) => {
        const c = cs.get(r.name);
        const running = c?.status === 'running';
        return {
          name: r.name,
          hash: unitHash(JSON.parse(r.options) as UnitOption[]),
          machineID: m,
          systemdLoadState: 'loaded',
          systemdActiveState: r.error ? 'failed' : running ? 'active' : 'inactive',
          systemdSubState: r.error ? 'failed' : running ? 'running' : c ? (c.status === 'exited' ? 'exited' : 'dead') : 'dead',
        };
      });
  }

  async machines(): Promise<Machine[]> {
    return [await this.machine()];
  }

  private machineCache: Machine | undefined;
  private async machine(): Promise<Machine> {
    this.machineCache ??= { id: hostname(), primaryIP: '127.0.0.1', metadata: {} };
    return this.machineCache;
  }

  /** The last start error of a unit, if its desired state could not be reached. */
  errorOf(name: string): string | undefined {
    return (this.db.prepare('SELECT error FROM units WHERE name = ?').get(name) as { error: string | null } | undefined)?.error ?? undefined;
  }

  /** Brings every unit to its desired state (daemon start, periodic resync). */
  async reconcileAll(): Promise<void> {
    for (const r of this.rows()) await this.reconcile(r.name).catch(() => undefined);
    // Containers of units that no longer exist.
    for (const [name, c] of await this.containers()) if (!this.rows().some((r) => r.name === name)) await this.engine.remove(c.id, { force: true });
  }

  /** One unit: inactive → no container; loaded → created (current config), stopped; launched → running. */
  async reconcile(name: string): Promise<void> {
    const r = this.db.prepare('SELECT * FROM units WHERE name = ?').get(name) as Row | undefined;
    if (!r) return;
    const c = (await this.containers()).get(name);
    const options = JSON.parse(r.options) as UnitOption[];
    try {
      if (r.desired_state === 'inactive' || isTemplate(name)) {
        if (c) await this.engine.remove(c.id, { force: true });
        return;
      }
      let id = c?.id;
      if (c && c.labels[HASH_LABEL] !== unitHash(options)) {
        await this.engine.remove(c.id, { force: true }); // the unit changed: a new container
        id = undefined;
      }
      if (!id) {
        const { spec } = unitContainer(name, options);
        try {
          id = (await this.engine.create(spec)).id;
        } catch (err) {
          // A leftover of the same name (fleet units `docker rm` it in ExecStartPre): replace it.
          if (!(err instanceof KibokoError && err.code === 'CONFLICT')) throw err;
          await this.engine.remove(spec.name, { force: true });
          id = (await this.engine.create(spec)).id;
        }
      }
      const status = (await this.engine.inspect(id)).status;
      if (r.desired_state === 'launched' && status !== 'running') await this.engine.start(id);
      if (r.desired_state === 'loaded' && (status === 'running' || status === 'paused')) await this.engine.stop(id, 10);
      this.db.prepare('UPDATE units SET error = NULL WHERE name = ?').run(name);
    } catch (err) {
      this.db.prepare('UPDATE units SET error = ? WHERE name = ?').run(asKibokoError(err).message, name);
    }
  }

  close(): void {
    this.db.close();
  }
}
