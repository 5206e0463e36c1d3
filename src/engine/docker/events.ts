import type Docker from 'dockerode';
import { onAbort } from '../../common/abort.js';
import { KibokoError } from '../../common/errors.js';
import type { EngineEvent, EventsOptions } from '../types.js';
import type { DockerContext } from './context.js';
import { translateEngineError, unreachable } from './errors.js';

export async function* engineEvents(ctx: DockerContext, options: EventsOptions = {}): AsyncIterable<EngineEvent> {
  const op = 'events';
  const filters: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(options.filters ?? {})) filters[k] = [...v];
  const stream = (await ctx.call(op, () =>
    ctx.docker.getEvents({
      since: options.since === undefined ? undefined : eventTime(options.since),
      until: options.until === undefined ? undefined : eventTime(options.until),
      filters: JSON.stringify(filters),
      abortSignal: options.signal,
    } as Docker.GetEventsOptions),
  )) as unknown as NodeJS.ReadableStream & { destroy(): void };
  // Also when the signal fired while the engine was answering.
  const off = onAbort(options.signal, () => stream.destroy());
  let rest = '';
  try {
    for await (const chunk of stream) {
      rest += chunk.toString();
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (line) yield toEngineEvent(JSON.parse(line) as RawEvent, /"timeNano":\s*(\d+)/.exec(line)?.[1]);
      }
    }
  } catch (err) {
    if (options.signal?.aborted) return;
    throw translateEngineError(err, { endpoint: ctx.endpoint, operation: op }) ?? err;
  } finally {
    off();
  }
  if (options.signal?.aborted || options.until !== undefined) return;
  throw unreachable(ctx.endpoint, 'the event stream ended');
}

interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  scope?: string;
  time?: number;
  timeNano?: number | string;
}

/** `exactNano`: timeNano as written in the JSON text (JSON numbers lose digits beyond 2^53). */
function toEngineEvent(e: RawEvent, exactNano?: string): EngineEvent {
  const time = e.time ?? 0;
  const timeNano = exactNano ?? `${time}000000000`;
  return {
    type: e.Type ?? 'container',
    action: e.Action ?? e.status ?? '',
    id: e.Actor?.ID ?? e.id ?? '',
    attributes: e.Actor?.Attributes ?? {},
    time,
    timeNano,
    scope: e.scope ?? 'local',
  };
}

/** The Engine API takes `since`/`until` as unix seconds (fractions allowed) or RFC 3339. */
function eventTime(t: number | string): string {
  if (typeof t === 'number') return t.toFixed(9).replace(/\.?0+$/, '');
  if (/^\d+(\.\d+)?$/.test(t)) return t;
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) throw new KibokoError('INVALID_ARGUMENT', `invalid event time '${t}': expected unix seconds or an ISO date`, { hint: 'e.g. 1700000000 or 2026-01-02T03:04:05Z' });
  return (ms / 1000).toFixed(3);
}
