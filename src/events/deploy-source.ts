import { onAbort } from '../common/abort.js';
import { deployEvent, type EventBus, type KibokoEvent } from './types.js';

/** The part of the deploy store the poller reads. */
export interface DeployHistory {
  projects(): string[];
  list(project: string, limit?: number): { project: string; rev: number; outcome: string; trigger: string; source: string; rollbackOf?: number | undefined; finishedAt?: string | undefined }[];
}

/**
 * Deploy events for a reactor that is not inside the daemon: the deploy history (written by any
 * `kiboko deploy` on this host) is polled, and each revision that finished after `sinceMs` becomes
 * one `deploy` event (applied, failed, cancelled, crashed, rolled-back).
 */
export function pollDeployHistory(history: DeployHistory, options: { sinceMs: number; intervalMs?: number; signal?: AbortSignal; onError?: (err: unknown) => void }): EventBus & { poll(): KibokoEvent[] } {
  const seen = new Set<string>();
  const listeners = new Set<(e: KibokoEvent) => void>();
  let timer: NodeJS.Timeout | undefined;
  const poll = (): KibokoEvent[] => {
    const out: KibokoEvent[] = [];
    for (const project of history.projects()) {
      const finished = history
        .list(project, 20)
        .filter((r) => r.outcome !== 'running' && r.finishedAt && Date.parse(r.finishedAt) >= options.sinceMs && !seen.has(`${project}\0${r.rev}`))
        .sort((a, b) => a.rev - b.rev);
      for (const r of finished) {
        seen.add(`${project}\0${r.rev}`);
        out.push(deployEvent(r));
      }
    }
    for (const e of out) for (const l of [...listeners]) l(e);
    return out;
  };
  const tick = () => {
    try {
      poll();
    } catch (err) {
      options.onError?.(err);
    }
  };
  return {
    poll,
    subscribe(listener) {
      listeners.add(listener);
      if (!timer) {
        timer = setInterval(tick, options.intervalMs ?? 2000);
        timer.unref();
        onAbort(options.signal, () => clearInterval(timer));
        queueMicrotask(tick);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
  };
}
