import { systemClock, type Clock } from '../common/clock.js';
import { errorMessage, isAbortError, KibokoError } from '../common/errors.js';
import type { Engine, EngineEvent } from '../engine/index.js';
import { eventKey } from './filters.js';
import { DIE_EVENT_LAG_NS, mergeCatchUp } from './catchup.js';
import { compareNano, msToNano, nanoToSeconds } from './time.js';

/** A catch-up replay is the engine's buffer (256 events in dockerd); anything far beyond is not a replay. */
const MAX_REPLAY = 100_000;

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
   * the engine may no longer have (see missedDies): the replay up to now is read to its end and
   * merged with them by time (mergeCatchUp), so the whole catch-up comes out in time order and a
   * death the engine still has is not yielded twice.
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
      // The stream says nothing until an event happens; ping first so `connected` is true (a
      // real ping: info() keeps its first answer, and would say so of an engine that is gone).
      await engine.ping();
      options.onState?.({ state: 'connected', since: from });
      // Yields an event unless it is behind the boundary or one of the boundary's own.
      const accept = (e: EngineEvent): boolean => {
        const order = compareNano(e.timeNano, boundary.timeNano);
        if (order < 0) return false;
        const key = eventKey(e);
        if (order === 0 && boundary.keys.has(key)) return false;
        if (order > 0) boundary = { timeNano: e.timeNano, keys: new Set() };
        boundary.keys.add(key);
        since = e.timeNano;
        attempt = 0;
        return true;
      };
      let liveFrom = from;
      if (resuming && options.catchUp) {
        // Catch-up: the replay up to now (read to its end) and the rebuilt deaths, merged by time.
        const rebuilt = await options.catchUp(from);
        let end = BigInt(msToNano(clock.now()));
        const lastDeath = rebuilt.reduce((m, e) => (BigInt(e.timeNano) > m ? BigInt(e.timeNano) : m), 0n);
        // A death that just happened may not have its event logged yet: read far enough to see it.
        if (lastDeath + DIE_EVENT_LAG_NS > end) end = lastDeath + DIE_EVENT_LAG_NS;
        if (options.until && BigInt(options.until) < end) end = BigInt(options.until);
        if (end < BigInt(from)) end = BigInt(from);
        const replay: EngineEvent[] = [];
        const head = engine.events({
          ...(options.filters ? { filters: options.filters } : {}),
          since: nanoToSeconds(from),
          until: nanoToSeconds(end.toString()),
          ...(options.signal ? { signal: options.signal } : {}),
        });
        for await (const e of head) {
          if (replay.length >= MAX_REPLAY) throw new KibokoError('ENGINE_ERROR', `the engine replayed more than ${MAX_REPLAY} events`);
          replay.push(e);
        }
        if (options.signal?.aborted) return;
        for (const e of mergeCatchUp(replay, rebuilt)) if (accept(e)) yield e;
        if (options.until && compareNano(end.toString(), options.until) >= 0) return;
        liveFrom = end.toString();
      }
      resuming = true;
      const stream = engine.events({
        ...(options.filters ? { filters: options.filters } : {}),
        since: nanoToSeconds(liveFrom),
        ...(options.until ? { until: nanoToSeconds(options.until) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (compareNano(since, liveFrom) < 0) since = liveFrom;
      for await (const e of stream) if (accept(e)) yield e;
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
