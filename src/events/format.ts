import type { EngineEvent } from '../engine/index.js';

/** `1700000000123456789` → `2023-11-14T22:13:20.123456789Z` (nanoseconds kept). */
export function isoNano(timeNano: string): string {
  const n = BigInt(timeNano);
  const ms = Number(n / 1_000_000n);
  const nanos = (n % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${nanos}Z`;
}

/** One line as `docker events` prints it: time, type, action, id, then the attributes sorted. */
export function humanEventLine(e: EngineEvent): string {
  const attrs = Object.keys(e.attributes)
    .sort()
    .map((k) => `${k}=${e.attributes[k]}`)
    .join(', ');
  return `${isoNano(e.timeNano)} ${e.type} ${e.action} ${e.id}${attrs ? ` (${attrs})` : ''}`;
}


/**
 * The event as `docker events --format '{{json .}}'` prints it — the Engine API's message:
 * `status`, `id`, `from` (the deprecated fields the engine still fills for container and image
 * events, left out when empty), `Type`, `Action`, `Actor: {ID, Attributes}` (keys sorted, as Go
 * writes a map), `scope`, `time`, and `timeNano` as a JSON number with all its digits (a JS
 * number would round it). kiboko's own events (`deploy`, `chaos`) come in the same shape.
 */
export function dockerEventJson(e: EngineEvent): string {
  const legacy = e.type === 'container' || e.type === 'image';
  const from = e.type === 'container' ? e.attributes.image : undefined;
  const attributes = Object.fromEntries(Object.keys(e.attributes ?? {}).sort().map((k) => [k, e.attributes[k]]));
  const head = {
    ...(legacy && e.action ? { status: e.action } : {}),
    ...(legacy && e.id ? { id: e.id } : {}),
    ...(from ? { from } : {}),
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.id, Attributes: attributes },
    scope: e.scope || 'local',
    time: e.time,
  };
  const nano = /^\d+$/.test(e.timeNano) ? e.timeNano.replace(/^0+(?=\d)/, '') : '0';
  return `${JSON.stringify(head).slice(0, -1)},"timeNano":${nano}}`;
}
