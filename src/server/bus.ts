/**
 * The daemon's in-process event bus: engine events and kiboko's own (deploy jobs, chaos
 * experiments, units) in one ordered stream. Every event gets a sequence id (SSE `id:`), and the
 * newest ones stay in a ring buffer so a client can catch up with `Last-Event-ID` or `?since=`.
 */

export interface BusEvent {
  /** Monotonic per daemon process, starting at 1. */
  id: number;
  /** `engine.container.start`, `deploy.job.started`, `chaos.experiment.stopped`, `unit.desired-state`… */
  type: string;
  /** ISO time the event happened (engine events: the engine's time). */
  time: string;
  data: Record<string, unknown>;
}

export type BusListener = (e: BusEvent) => void;

export class EventBus {
  private seq = 0;
  private readonly ring: BusEvent[] = [];
  private readonly listeners = new Set<BusListener>();

  constructor(
    private readonly capacity = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  publish(type: string, data: Record<string, unknown>, time?: string): BusEvent {
    const e: BusEvent = { id: ++this.seq, type, time: time ?? new Date(this.now()).toISOString(), data };
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // A failing subscriber (a closed socket) must not stop the others.
      }
    }
    return e;
  }

  subscribe(listener: BusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  get lastId(): number {
    return this.seq;
  }

  /** Buffered events after `afterId` (Last-Event-ID), or at/after `sinceMs`; oldest first. */
  replay(options: { afterId?: number | undefined; sinceMs?: number | undefined }): BusEvent[] {
    return this.ring.filter((e) => (options.afterId === undefined || e.id > options.afterId) && (options.sinceMs === undefined || Date.parse(e.time) >= options.sinceMs));
  }
}

/** `?type=deploy,chaos` → matches `deploy.*` and `chaos.*` (prefixes on dot boundaries); empty matches all. */
export function typeMatcher(prefixes: readonly string[]): (type: string) => boolean {
  const ps = prefixes.map((p) => p.trim()).filter(Boolean);
  if (ps.length === 0) return () => true;
  return (type) => ps.some((p) => type === p || type.startsWith(`${p}.`));
}
