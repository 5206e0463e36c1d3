import { systemClock, type Clock } from '../../common/clock.js';
import { errorMessage, isAbortError } from '../../common/errors.js';
import { LABELS } from '../../common/labels.js';
import type { SystemConfig } from '../../deploy/index.js';
import type { Engine } from '../../engine/index.js';
import { watchEvents, type WatchState } from '../watch.js';
import { dependentsOf, syncDependents, type DependencyEvent, type DependentSync } from '../../deploy/index.js';

export type DependencyReactorEvent = DependencyEvent | { type: 'pass'; reason: 'start' | 'reconnect' | 'containers-started'; services: string[]; results: DependentSync[] } | { type: 'state'; state: WatchState } | { type: 'warning'; message: string };

export interface DependencyReactorOptions {
  /** The configuration to keep in step (re-read before every pass: a compose file, or the latest deployed revision). */
  load: () => Promise<SystemConfig>;
  /** Container starts are gathered this long before a pass (default 500 ms). */
  settleMs?: number | undefined;
  clock?: Clock | undefined;
  onEvent?: ((e: DependencyReactorEvent) => void) | undefined;
  backoff?: { initialMs: number; maxMs: number } | undefined;
}

/**
 * `kiboko react --deps`: whenever a container of the project starts (a deploy replaced it, it
 * restarted, the engine came back), the services that depend on it get their config re-rendered
 * and reloaded — and a new container of a templated service gets its own config. One full pass
 * at start and after every reconnect covers whatever happened while nobody was listening.
 */
export function startDependencyReactor(engine: Engine, project: string, options: DependencyReactorOptions): { done: Promise<void>; stop(): Promise<void> } {
  const clock = options.clock ?? systemClock;
  const emit = (e: DependencyReactorEvent) => options.onEvent?.(e);
  const controller = new AbortController();
  const started = new Set<string>();
  let full: 'start' | 'reconnect' | undefined = 'start';
  let wake: (() => void) | undefined;
  let disconnected = false;
  const poke = () => wake?.();

  const pass = async () => {
    const config = await options.load();
    if (config.project !== project) throw new Error(`the configuration is for project ${config.project}, not ${project}`);
    let services: string[] | undefined;
    let reason: 'start' | 'reconnect' | 'containers-started';
    if (full) {
      reason = full;
      full = undefined;
      started.clear();
    } else {
      reason = 'containers-started';
      const names = new Set<string>();
      for (const svc of started) {
        if (config.services.find((s) => s.name === svc)?.templates) names.add(svc);
        for (const d of dependentsOf(config, svc)) names.add(d.name);
      }
      started.clear();
      services = [...names].sort();
      if (services.length === 0) return;
    }
    const results = await syncDependents(engine, config, { services, signal: controller.signal, onEvent: emit });
    emit({ type: 'pass', reason, services: services ?? results.map((r) => r.service), results });
  };

  const worker = (async () => {
    while (!controller.signal.aborted) {
      if (!full && started.size === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          controller.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        wake = undefined;
        continue;
      }
      if (!full) await clock.sleep(options.settleMs ?? 500, controller.signal).catch(() => undefined);
      if (controller.signal.aborted) break;
      try {
        await pass();
      } catch (err) {
        if (isAbortError(err) && controller.signal.aborted) break;
        emit({ type: 'warning', message: `dependency pass failed: ${errorMessage(err)}` });
      }
    }
  })();

  const listener = (async () => {
    const stream = watchEvents(engine, {
      filters: { type: ['container'], event: ['start'], label: [`${LABELS.deployProject}=${project}`] },
      signal: controller.signal,
      clock,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      onState: (s) => {
        emit({ type: 'state', state: s });
        if (s.state === 'disconnected') disconnected = true;
        else if (disconnected) {
          disconnected = false;
          full = 'reconnect';
          poke();
        }
      },
    });
    for await (const e of stream) {
      const service = e.attributes[LABELS.deployService];
      if (!service) continue;
      started.add(service);
      poke();
    }
  })();

  const done = Promise.all([worker, listener]).then(() => undefined);
  return {
    done,
    stop: async () => {
      controller.abort();
      await done.catch(() => undefined);
    },
  };
}
