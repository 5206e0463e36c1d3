import { systemClock, type Clock } from '../common/clock.js';
import { errorMessage, isAbortError, KibokoError } from '../common/errors.js';
import type { Engine, EngineEvent } from '../engine/index.js';
import { eventKey } from './filters.js';
import { compareNano, msToNano, nanoToSeconds } from './time.js';

export type WatchState =
  | { state: 'connected'; since?: string | undefined }
  | { state: 'disconnected'; error: string; retryInMs: number; attempt: number };

export interface WatchOptions {
  /** Engine-side filters (`docker events --filter`). */
  filters?: Readonly<Record<string, readonly string[]>> | undefined;
  /** Replay from here: unix nanoseconds (inclusive, as the engine treats `since`). */
  since?: string | undefined;
  /** End here: unix nanoseconds. */
  until?: string | undefined;
  /** Events at exactly `since` that were already handled (their `eventKey`s): skipped. */
  seen?: Iterable<string> | undefined;
  signal?: AbortSignal | undefined;
  onState?: ((s: WatchState) => void) | undefined;
  clock?: Clock | undefined;
  /** Reconnect backoff: doubles from `initialMs` up to `maxMs` (defaults 250 ms, 5 s). */
  backoff?: { initialMs: number; maxMs: number } | undefined;
  /**
   * On every connection that resumes from a past point (a reconnect, or `since` given), events
   * the engine may no longer have (see missedDies) — yielded before the stream's, as they are.
   */
  catchUp?: ((sinceNano: string) => Promise<EngineEvent[]>) | undefined;
}

/**
 * The engine's event stream that survives the engine: when the stream drops (dockerd restarts,
 * the socket goes away) it reconnects with backoff and resumes with `since` = the last event's
 * time, skipping the events at that boundary it already yielded, so every event comes out once
 * and in order. Ends when `signal` aborts or `until` passes.
 */
export async function* watchEvents(engine: Engine, options: WatchOptions = {}): AsyncGenerator<EngineEvent, void, undefined> {
  const clock = options.clock ?? systemClock;
  const backoff = options.backoff ?? { initialMs: 250, maxMs: 5000 };
  let since = options.since;
  let boundary = { timeNano: since, keys: new Set(options.seen ?? []) };
  let attempt = 0;
  let resuming = since !== undefined;
  for (;;) {
    if (options.signal?.aborted) return;
    // Without a starting point, a reconnect resumes from when we first listened: nothing is lost.
    const from = since ?? msToNano(clock.now());
    try {
      // The stream says nothing until an event happens; ping first so `connected` is true.
      await engine.info();
      options.onState?.({ state: 'connected', since: from });
      if (resuming && options.catchUp) for (const e of await options.catchUp(from)) yield e;
      resuming = true;
      const stream = engine.events({
        ...(options.filters ? { filters: options.filters } : {}),
        since: nanoToSeconds(from),
        ...(options.until ? { until: nanoToSeconds(options.until) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      since = from;
      for await (const e of stream) {
        const order = compareNano(e.timeNano, boundary.timeNano);
        if (order < 0) continue;
        const key = eventKey(e);
        if (order === 0 && boundary.keys.has(key)) continue;
        if (order > 0) boundary = { timeNano: e.timeNano, keys: new Set() };
        boundary.keys.add(key);
        since = e.timeNano;
        attempt = 0;
        yield e;
      }
      // A stream that ends without error ended on purpose (until passed, or aborted).
      return;
    } catch (err) {
      if (options.signal?.aborted || isAbortError(err)) return;
      if (!retryable(err)) throw err;
      const retryInMs = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 20));
      attempt++;
      options.onState?.({ state: 'disconnected', error: errorMessage(err), retryInMs, attempt });
      try {
        await clock.sleep(retryInMs, options.signal);
      } catch (sleepErr) {
        if (isAbortError(sleepErr) || options.signal?.aborted) return;
        throw sleepErr;
      }
    }
  }
}

/** The engine went away or answered with a server error: worth another try. */
function retryable(err: unknown): boolean {
  if (!(err instanceof KibokoError)) return false;
  return err.code === 'ENGINE_UNREACHABLE' || err.code === 'ENGINE_ERROR';
}
