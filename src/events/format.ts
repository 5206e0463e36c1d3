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

