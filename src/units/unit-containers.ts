import { asKibokoError, KibokoError } from '../common/errors.js';
import type { ContainerSummary, Engine } from '../engine/index.js';
import { pullImage } from '../registry/index.js';
import { runSequence, type CommandContext } from './commands.js';
import { HASH_LABEL, UNIT_LABEL, type UnitRuntime } from './container.js';
import { ACTIVE, isUnreachable, neverStarted } from './unit-state.js';

/** Which daemon (state directory) a unit container belongs to, so two daemons never touch each other's units. */
export const REGISTRY_LABEL = 'kiboko.units.registry';

/** The engine side of the engine registry: one registry's unit containers, launched and stopped as systemd would. */
export class UnitContainers {
  constructor(
    private readonly engine: Engine,
    /** The registry's id (REGISTRY_LABEL on its containers). */
    private readonly id: string,
  ) {}

  /** This daemon's unit containers by unit name (several only if something went wrong; converge removes extras). */
  async byUnit(): Promise<Map<string, ContainerSummary[]>> {
    const list = await this.engine.list({ all: true, labels: [UNIT_LABEL, `${REGISTRY_LABEL}=${this.id}`] });
    const by = new Map<string, ContainerSummary[]>();
    for (const c of list) by.set(c.labels[UNIT_LABEL]!, [...(by.get(c.labels[UNIT_LABEL]!) ?? []), c]);
    for (const cs of by.values()) cs.sort((a, b) => Number(ACTIVE.has(b.status)) - Number(ACTIVE.has(a.status)) || b.created - a.created);
    return by;
  }

  /** One container per unit (the one that counts), or undefined when the engine is unreachable. */
  async current(): Promise<Map<string, ContainerSummary> | undefined> {
    try {
      return new Map([...(await this.byUnit())].map(([k, v]) => [k, v[0]!]));
    } catch (err) {
      if (isUnreachable(err)) return undefined;
      throw err;
    }
  }

  async exitCode(c: ContainerSummary | undefined): Promise<number | undefined> {
    if (!c || (c.status !== 'exited' && c.status !== 'dead')) return undefined;
    const d = await this.engine.inspect(c.id).catch(() => undefined);
    return d && !neverStarted(d.startedAt) ? d.exitCode : undefined;
  }

  async everStarted(c: ContainerSummary): Promise<boolean> {
    const d = await this.engine.inspect(c.id).catch(() => undefined);
    return Boolean(d && !neverStarted(d.startedAt));
  }

  commandContext(unit: string): CommandContext {
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
  async launch(unit: string, rt: UnitRuntime): Promise<string[]> {
    const ctx = this.commandContext(unit);
    const notes = await runSequence(this.engine, rt.commands.ExecStartPre, ctx);
    let c = (await this.byUnit()).get(unit)?.[0];
    if (c && c.labels[HASH_LABEL] !== rt.spec.labels![HASH_LABEL]) {
      await this.engine.remove(c.id, { force: true });
      c = undefined;
    }
    const id = c?.id ?? (await this.create(unit, rt));
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

  /**
   * ExecStop, the container stopped, ExecStopPost. Answers why a command line failed (a failing
   * ExecStop line without `-` leaves the unit failed, as systemd does), if one did.
   */
  async stop(unit: string, runtime: UnitRuntime | undefined, c: ContainerSummary): Promise<string | undefined> {
    const ctx = this.commandContext(unit);
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
    return failure;
  }
}
