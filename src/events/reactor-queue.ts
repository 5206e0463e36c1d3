import { compareNano } from './time.js';

/** The reactor's bookkeeping: which events are finished (the cursor's watermark), and the firings' queue. */

/**
 * Events in arrival order with the number of firings still running for each; `done` is the
 * newest event before which everything has finished — what the cursor may say.
 */
export class Watermark {
  private readonly queue: { timeNano: string; key: string; pending: number; fired: string[]; decisions: [string, number][] }[] = [];
  done: { timeNano: string; keys: string[] } = { timeNano: '0', keys: [] };
  /** Called with the window decisions (scope, event time) of each event `done` moves past. */
  onPassed: (decisions: readonly [string, number][]) => void = () => undefined;

  add(timeNano: string, key: string) {
    const entry = { timeNano, key, pending: 0, fired: [] as string[], decisions: [] as [string, number][] };
    this.queue.push(entry);
    return entry;
  }

  /** `<event key>#<rule>` of the firings that finished for events still beyond `done`. */
  firedAhead(): string[] {
    return this.queue.flatMap((e) => e.fired.map((rule) => `${e.key}#${rule}`));
  }

  /** Moves `done` past finished events at the head; true when it moved. */
  advance(): boolean {
    let moved = false;
    while (this.queue.length && this.queue[0]!.pending <= 0) {
      const head = this.queue.shift()!;
      this.onPassed(head.decisions);
      const order = compareNano(head.timeNano, this.done.timeNano);
      if (order > 0) this.done = { timeNano: head.timeNano, keys: [head.key] };
      else if (order === 0) this.done = { timeNano: head.timeNano, keys: [...this.done.keys, head.key] };
      moved = true;
    }
    return moved;
  }
}

/** A queue with at most `limit` tasks running; `idle()` resolves when nothing runs or waits. */
export function createLimiter(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  let idleWaiters: (() => void)[] = [];
  const checkIdle = () => {
    if (active === 0 && waiting.length === 0) {
      const ws = idleWaiters;
      idleWaiters = [];
      for (const w of ws) w();
    }
  };
  const run = <T>(task: () => Promise<T>): Promise<T | undefined> =>
    new Promise<T | undefined>((resolve, reject) => {
      const start = () => {
        active++;
        task()
          .then(resolve, reject)
          .finally(() => {
            active--;
            waiting.shift()?.();
            checkIdle();
          });
      };
      if (active < limit) start();
      else waiting.push(start);
    });
  return Object.assign(run, {
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      }),
    /** Forgets queued tasks that have not started (they are replayed from the cursor next time). */
    drop: () => {
      waiting.length = 0;
      checkIdle();
    },
  });
}
