import { errorMessage } from '../../common/errors.js';
import type { SystemConfig } from '../model.js';
import type { Engine } from '../../engine/index.js';
import { dependentsOf, syncDependents, type DependencyEvent, type DependentSync } from './sync.js';

/** What a deploy calls around each replica it starts (see ApplyDeps.hooks in src/deploy/apply.ts). */
export interface DependencyHooks {
  /** A replica of `service` was started: render its own config into it before it is health-gated. */
  started(service: string, slot: number, id: string): Promise<void>;
  /** A replica is ready and `replaces` is about to be removed: point the dependents at the new one first. */
  ready(service: string, slot: number, id: string, replaces: string | undefined): Promise<void>;
  /** After the deploy: one full, idempotent pass (covers rollbacks and anything missed). */
  afterApply(signal?: AbortSignal): Promise<DependentSync[]>;
}

/**
 * Deploy hooks that keep dependents' configs in step while a deploy replaces their dependencies:
 * re-rendered and reloaded between the new replica becoming ready and the old one being removed,
 * so a dependent never points at a removed container. A failure is a warning, not a failed deploy
 * (the dependency itself was replaced fine; the dependent keeps its previous, checked config).
 */
export function dependencyHooks(engine: Engine, config: SystemConfig, options: { warn?: (message: string) => void; onEvent?: (e: DependencyEvent) => void } = {}): DependencyHooks {
  const report = (results: DependentSync[]) => {
    for (const r of results) for (const f of r.failures) options.warn?.(`config of ${r.service}: ${f}`);
    return results;
  };
  const guarded = async (what: string, fn: () => Promise<DependentSync[]>) => {
    try {
      return report(await fn());
    } catch (err) {
      options.warn?.(`${what}: ${errorMessage(err)}`);
      return [];
    }
  };
  const onEvent = options.onEvent;
  return {
    async started(service, _slot, id) {
      if (!config.services.find((s) => s.name === service)?.templates) return;
      await guarded(`config of ${service}`, () => syncDependents(engine, config, { services: [service], containers: [id], onEvent }));
    },
    async ready(service, _slot, _id, replaces) {
      const dependents = dependentsOf(config, service).map((s) => s.name);
      if (dependents.length === 0) return;
      await guarded(`dependents of ${service}`, () => syncDependents(engine, config, { services: dependents, retiring: replaces ? new Set([replaces]) : undefined, onEvent }));
    },
    afterApply(signal) {
      return guarded('dependent configs', () => syncDependents(engine, config, { signal, onEvent }));
    },
  };
}

/** Whether a configuration has anything for the hooks to do. */
export const hasTemplates = (config: SystemConfig): boolean => config.services.some((s) => s.templates);
