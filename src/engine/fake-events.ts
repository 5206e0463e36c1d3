import type { EngineEvent, EventsOptions } from './types.js';

/**
 * The fake engine's event stream: what `log` holds from `since` on, then what `listeners` are
 * handed until `until` or the signal (an Error handed to them ends the stream with it).
 */
export async function* followEvents(log: readonly EngineEvent[], listeners: Set<(e: EngineEvent | Error) => void>, options: EventsOptions): AsyncIterable<EngineEvent> {
  const queue: (EngineEvent | Error)[] = [];
  let wake: (() => void) | undefined;
  const listener = (e: EngineEvent | Error) => {
    queue.push(e);
    wake?.();
  };
  const onAbort = () => wake?.();
  options.signal?.addEventListener('abort', onAbort);
  const since = options.since === undefined ? undefined : toNs(options.since);
  const until = options.until === undefined ? undefined : toNs(options.until);
  const match = (e: EngineEvent) => matchEvent(e, options.filters ?? {});
  try {
    if (since !== undefined) for (const e of log) if (BigInt(e.timeNano) >= since && (until === undefined || BigInt(e.timeNano) <= until) && match(e)) yield e;
    const nowNs = () => BigInt(Date.now()) * 1_000_000n;
    if (until !== undefined && until <= nowNs()) return;
    listeners.add(listener);
    while (!options.signal?.aborted) {
      const next = queue.shift();
      if (next === undefined) {
        if (until !== undefined && until <= nowNs()) return;
        // Like the engine, a stream with `until` ends at that time even when nothing happens.
        const timer = until === undefined ? undefined : setTimeout(() => wake?.(), Number((until - nowNs()) / 1_000_000n) + 1);
        await new Promise<void>((resolve) => (wake = resolve));
        clearTimeout(timer);
        wake = undefined;
        continue;
      }
      if (next instanceof Error) throw next;
      if (until !== undefined && BigInt(next.timeNano) > until) return;
      if (match(next)) yield next;
    }
  } finally {
    listeners.delete(listener);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

export function matchLabel(labels: Readonly<Record<string, string>>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

function toNs(t: number | string): bigint {
  if (typeof t === 'number') return BigInt(Math.round(t * 1e3)) * 1_000_000n;
  if (/^\d+$/.test(t)) return BigInt(t) * 1_000_000_000n;
  if (/^\d+\.\d+$/.test(t)) {
    const [s, f] = t.split('.') as [string, string];
    return BigInt(s) * 1_000_000_000n + BigInt(f.padEnd(9, '0').slice(0, 9));
  }
  return BigInt(Date.parse(t)) * 1_000_000n;
}

/** The engine's event filters: type, event (action), container (id or name), image, label. */
function matchEvent(e: EngineEvent, filters: Readonly<Record<string, readonly string[]>>): boolean {
  for (const [key, values] of Object.entries(filters)) {
    if (!values.length) continue;
    const ok = values.some((v) => {
      switch (key) {
        case 'type':
          return e.type === v;
        case 'event':
          return e.action === v || e.action.split(':')[0] === v;
        case 'container':
          return e.type === 'container' && (e.id === v || e.id.startsWith(v) || e.attributes.name === v);
        case 'image':
          return e.attributes.image === v;
        case 'label':
          return matchLabel(e.attributes, v);
        default:
          return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}
