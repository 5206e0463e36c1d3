import type { Engine, EngineEvent } from '../engine/index.js';
import { compareNano } from './time.js';

/** Attribute set on events kiboko rebuilt from container state rather than read from the engine. */
export const SYNTHESIZED = 'kiboko.synthesized';

/** `2026-01-02T03:04:05.123456789Z` → unix nanoseconds; undefined for Go's zero time. */
export function isoToNano(iso: string): string | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3]}`) / 1000;
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  return (BigInt(seconds) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))).toString();
}

/**
 * The `die` events the engine can no longer replay. The engine keeps its last 256 events in
 * memory only: a death that was not delivered before the connection dropped (dockerd killed or
 * crashed, its buffer lost in the restart, or rolled over while nobody listened) has no event
 * left anywhere. The container's state still says when it finished and how: each container that
 * finished after `sinceNano` becomes a `die` event (time = its FinishedAt, attributes = its
 * labels, name, image, exitCode, and `kiboko.synthesized=true`); the reactor drops whichever of
 * the rebuilt and the real event comes second.
 */
export async function missedDies(engine: Engine, sinceNano: string, options: { limit?: number } = {}): Promise<EngineEvent[]> {
  const all = await engine.list({ all: true });
  const out: EngineEvent[] = [];
  for (const c of all.slice(0, options.limit ?? 1000)) {
    // A container created after `since` that is running never finished since then.
    if (c.status === 'created') continue;
    let d;
    try {
      d = await engine.inspect(c.id);
    } catch {
      continue; // removed meanwhile
    }
    const finished = isoToNano(d.finishedAt);
    if (!finished || compareNano(finished, sinceNano) <= 0) continue;
    out.push({
      type: 'container',
      action: 'die',
      id: d.id,
      attributes: { ...d.labels, name: d.name, image: d.image, exitCode: String(d.exitCode), [SYNTHESIZED]: 'true' },
      time: Number(BigInt(finished) / 1_000_000_000n),
      timeNano: finished,
      scope: 'local',
    });
  }
  return out.sort((a, b) => compareNano(a.timeNano, b.timeNano));
}
