import { restUnlessAborted } from '../common/abort.js';
import { isAbortError } from '../common/errors.js';
import { DeployStore } from '../deploy/index.js';
import type { Engine, EngineEvent } from '../engine/index.js';
import { Journal } from '../journal/index.js';
import type { UnitRegistry } from '../units/index.js';
import { EventBus } from './bus.js';
import { ChaosService } from './chaos.js';
import { DeployService } from './deploys.js';
import type { ProjectDef } from './projects.js';

/** `engine.container.start`, `engine.container.health_status` (the detail after `:` stays in data). */
export const engineEventType = (e: EngineEvent): string => `engine.${e.type || 'unknown'}.${(e.action.split(':')[0] ?? '').trim().replace(/[^A-Za-z0-9_-]/g, '_') || 'unknown'}`;

/**
 * Feeds the engine's event stream into the bus, reconnecting (from the last event's time, so
 * nothing is lost or repeated) when the engine restarts or the connection drops.
 */
export function pumpEngineEvents(engine: Engine, bus: EventBus, options: { signal: AbortSignal; retryMs?: number; onState?: (up: boolean) => void }): Promise<void> {
  let lastNs: bigint | undefined;
  const run = async () => {
    while (!options.signal.aborted) {
      try {
        const since = lastNs === undefined ? undefined : Number(lastNs / 1_000_000n) / 1000;
        options.onState?.(true);
        for await (const e of engine.events({ signal: options.signal, ...(since !== undefined ? { since } : {}) })) {
          const ns = BigInt(/^\d+$/.test(e.timeNano) ? e.timeNano : Math.round(e.time * 1e9));
          if (lastNs !== undefined && ns <= lastNs) continue; // replayed after a reconnect
          lastNs = ns;
          bus.publish(engineEventType(e), { ...e }, new Date(Number(ns / 1_000_000n)).toISOString());
        }
      } catch (err) {
        if (options.signal.aborted || isAbortError(err)) return;
        options.onState?.(false);
      }
      if (options.signal.aborted) return;
      await restUnlessAborted(options.retryMs ?? 1000, options.signal);
    }
  };
  return run();
}

/** The unit registry, publishing unit changes made through the API on the bus. */
export function observeRegistry<R extends UnitRegistry>(registry: R, bus: EventBus): R {
  return Object.create(registry, {
    put: {
      async value(unit: Parameters<UnitRegistry['put']>[0]) {
        await registry.put(unit);
        bus.publish('unit.put', { name: unit.name, desiredState: unit.desiredState });
      },
    },
    setDesiredState: {
      async value(name: string, state: Parameters<UnitRegistry['setDesiredState']>[1]) {
        await registry.setDesiredState(name, state);
        bus.publish('unit.desired-state', { name, desiredState: state });
      },
    },
    remove: {
      async value(name: string) {
        const removed = await registry.remove(name);
        if (removed) bus.publish('unit.removed', { name });
        return removed;
      },
    },
  }) as R;
}

export interface DaemonServices {
  bus: EventBus;
  deploys: DeployService;
  chaos: ChaosService;
  /** Stops experiments (restoring their faults), lets the running deploy finish its batch, closes the store. */
  close(): Promise<void>;
}

/**
 * What `kiboko serve` runs besides the units registry: the event bus (fed by the engine), the
 * deploy service over the deploy store, and the chaos service over the restore journal.
 */
export function createDaemonServices(options: { engine: Engine; stateDir: string; projects: readonly ProjectDef[]; engineEvents?: boolean; onEngineState?: (up: boolean) => void }): DaemonServices {
  const bus = new EventBus();
  const store = new DeployStore(options.stateDir);
  const deploys = new DeployService({ engine: options.engine, store, projects: options.projects, bus });
  const chaos = new ChaosService({ engine: options.engine, journal: new Journal(options.stateDir), bus });
  const stop = new AbortController();
  const pump = options.engineEvents === false ? Promise.resolve() : pumpEngineEvents(options.engine, bus, { signal: stop.signal, ...(options.onEngineState ? { onState: options.onEngineState } : {}) });
  return {
    bus,
    deploys,
    chaos,
    async close() {
      await Promise.all([chaos.close(), deploys.close()]);
      stop.abort();
      await pump;
      store.close();
    },
  };
}
