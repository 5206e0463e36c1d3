import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDuration } from '../common/duration.js';
import { VERSION } from '../common/version.js';
import { typeMatcher, type BusEvent, type EventBus } from './bus.js';
import { HttpError } from './errors.js';

export interface SseOptions {
  heartbeatMs?: number | undefined;
  now?: (() => number) | undefined;
  /** A client whose unsent output grows past this is dropped (it reconnects with Last-Event-ID). */
  maxBufferedBytes?: number | undefined;
}

/** `?since=`: an ISO time, Unix seconds, or a duration back from now (`5m`). */
export function parseSince(value: string, now: number): number {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  if (/^\d{4}-\d{2}-\d{2}T/.test(v) && Number.isFinite(Date.parse(v))) return Date.parse(v);
  try {
    return now - parseDuration(v, 'since');
  } catch {
    throw new HttpError(400, 'INVALID_ARGUMENT', `invalid since '${v.slice(0, 60)}': expected an ISO time, Unix seconds or a duration such as 5m`, 'e.g. ?since=10m');
  }
}

const frame = (e: BusEvent) => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

/**
 * `GET /v1/events`: Server-Sent Events from the bus. `Last-Event-ID` (or `?lastEventId=`) resumes
 * after that event and `?since=` replays the buffered events since a time; `?type=deploy,engine`
 * keeps only those families. A comment line every 15 s keeps proxies from closing the stream.
 * Validation errors are thrown before any byte is written; after that the request is streamed.
 */
export function streamEvents(req: IncomingMessage, res: ServerResponse, url: URL, bus: EventBus, options: SseOptions = {}): Promise<void> {
  const now = options.now ?? Date.now;
  const q = url.searchParams;
  const lastIdRaw = (typeof req.headers['last-event-id'] === 'string' ? req.headers['last-event-id'] : undefined) ?? q.get('lastEventId') ?? undefined;
  if (lastIdRaw !== undefined && !/^\d{1,15}$/.test(lastIdRaw.trim())) throw new HttpError(400, 'INVALID_ARGUMENT', `invalid Last-Event-ID '${lastIdRaw.slice(0, 40)}': expected an event id (a whole number)`, 'send back the id of the last event received');
  const afterId = lastIdRaw === undefined ? undefined : Number(lastIdRaw.trim());
  const since = q.get('since');
  const sinceMs = since === null ? undefined : parseSince(since, now());
  const types = q.getAll('type').flatMap((t) => t.split(','));
  if (types.some((t) => t.length > 60 || !/^[A-Za-z0-9_.:-]*$/.test(t))) throw new HttpError(400, 'INVALID_ARGUMENT', 'invalid type filter: expected event type prefixes such as deploy, chaos, engine.container', 'e.g. ?type=deploy,engine');
  const wanted = typeMatcher(types);

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    server: `kiboko/${VERSION}`,
  });
  res.write(`retry: 2000\n: kiboko events, last id ${bus.lastId}\n\n`);
  const max = options.maxBufferedBytes ?? 256 * 1024;
  let closed = false;
  // A reader that does not keep up is dropped once its unsent output passes `max`, not buffered
  // without end; it reconnects with Last-Event-ID and catches up from the ring.
  // The catch-up replay (at most the bus's ring) may pass `max` once, on connect.
  let limit = Math.max(max, 4 * 1024 * 1024);
  const write = (text: string) => {
    if (closed || res.destroyed) return;
    res.write(text);
    if (res.writableLength > limit) res.destroy();
  };
  const send = (e: BusEvent) => {
    if (!closed && wanted(e.type)) write(frame(e));
  };
  // Replay and subscribe in one synchronous step: nothing published in between can be missed.
  if (afterId !== undefined || sinceMs !== undefined) for (const e of bus.replay({ afterId, sinceMs })) send(e);
  const unsubscribe = bus.subscribe(send);
  if (res.writableLength <= max) limit = max;
  else res.once('drain', () => (limit = max));
  const heartbeat = setInterval(() => write(`: heartbeat ${new Date(now()).toISOString()}\n\n`), options.heartbeatMs ?? 15_000);
  heartbeat.unref();
  return new Promise<void>((resolve) => {
    const end = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      resolve();
    };
    req.on('close', end);
    res.on('close', end);
    res.on('error', end);
  });
}
