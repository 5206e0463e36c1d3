import { asKibokoError, errorMessage } from '../../common/errors.js';
import type { ServiceSpec, SystemConfig } from '../model.js';
import { observeProject } from '../observe.js';
import type { Engine } from '../../engine/index.js';
import type { TemplateEvent } from '../../template/index.js';
import { dependencyValues, deployBackend, liveReplicas } from './values.js';

/** What keeping one service's config in step did. */
export interface DependentSync {
  service: string;
  /** Container names written to. */
  containers: string[];
  /** Files that changed (per container). */
  changed: number;
  /** Containers whose `x-kiboko.config.reload` ran (after a change). */
  reloaded: string[];
  failures: string[];
}

export type DependencyEvent =
  | { type: 'template'; service: string; event: TemplateEvent }
  | { type: 'synced'; result: DependentSync };

export interface SyncOptions {
  /** Only these dependents (default: every service with `x-kiboko.config`). */
  services?: readonly string[] | undefined;
  /** Only these containers of theirs (e.g. a replica that just started). */
  containers?: readonly string[] | undefined;
  /** Replicas about to be removed: never used as a dependency's address. */
  retiring?: ReadonlySet<string> | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((e: DependencyEvent) => void) | undefined;
}

const CHANGED = new Set(['written', 'reloaded']);
const FAILED = new Set(['check-failed', 'reload-failed-restored', 'failed']);

/** Services with config templates that depend on `service`. */
export function dependentsOf(config: SystemConfig, service: string): ServiceSpec[] {
  return config.services.filter((s) => s.templates && s.dependsOn.some((d) => d.service === service));
}

/**
 * Renders each templated service's confd folder into its running containers with the current
 * addresses of its dependencies (see dependencyValues), through the template library's
 * transaction: only changed files are written (checked, atomically renamed, their reload_cmd
 * run) — the containers keep running; `x-kiboko.config.reload` then runs in each container
 * where something changed. Idempotent: with nothing changed, nothing is written or reloaded.
 */
export async function syncDependents(engine: Engine, config: SystemConfig, options: SyncOptions = {}): Promise<DependentSync[]> {
  const targets = config.services.filter((s) => s.templates && (!options.services || options.services.includes(s.name)));
  if (targets.length === 0) return [];
  const observed = await observeProject(engine, config.project);
  const out: DependentSync[] = [];
  for (const s of targets) {
    if (options.signal?.aborted) break;
    const replicas = liveReplicas(observed, s.name, options.retiring).filter((r) => !options.containers || options.containers.includes(r.id));
    // A replica just started may not be in `observed` yet as the newest of its slot: add it.
    for (const id of options.containers ?? []) {
      if (replicas.some((r) => r.id === id)) continue;
      const r = observed.find((x) => x.id === id && x.service === s.name);
      if (r) replicas.push(r);
    }
    const result: DependentSync = { service: s.name, containers: replicas.map((r) => r.name), changed: 0, reloaded: [], failures: [] };
    if (replicas.length === 0) continue;
    try {
      const values = await dependencyValues(engine, config, s, { retiring: options.retiring, observed });
      // The template engine is loaded only for configurations that render templates.
      const { loadResources, renderWithGoTemplate, runTemplate } = await import('../../template/index.js');
      const resources = await loadResources(s.templates!.confdir);
      const summary = await runTemplate({
        backend: deployBackend(values),
        render: renderWithGoTemplate,
        resources,
        mode: 'onetime',
        containers: { engine, query: { names: replicas.map((r) => r.id), patterns: [], labels: [] }, selection: { selfId: null } },
        ...(options.signal ? { signal: options.signal } : {}),
        onEvent: (event) => options.onEvent?.({ type: 'template', service: s.name, event }),
      });
      const changedIn = new Set<string>();
      for (const r of summary.last) {
        if (CHANGED.has(r.outcome)) {
          result.changed++;
          changedIn.add(r.target);
        }
        if (FAILED.has(r.outcome)) result.failures.push(`${r.target}: ${r.resource}: ${r.error?.message ?? r.outcome}`);
      }
      const reload = s.templates!.reload;
      if (reload?.length) {
        for (const r of replicas.filter((x) => changedIn.has(x.name))) {
          try {
            const x = await engine.exec(r.id, { cmd: reload, ...(options.signal ? { signal: options.signal } : {}) });
            if (x.exitCode === 0) result.reloaded.push(r.name);
            else result.failures.push(`${r.name}: reload ${JSON.stringify(reload)} exited with ${x.exitCode}${x.stderr.trim() ? `: ${x.stderr.trim().split('\n').slice(-1)[0]}` : ''}`);
          } catch (err) {
            result.failures.push(`${r.name}: reload: ${errorMessage(err)}`);
          }
        }
      }
    } catch (err) {
      result.failures.push(asKibokoError(err).message);
    }
    options.onEvent?.({ type: 'synced', result });
    out.push(result);
  }
  return out;
}
