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

/** How long after a container's FinishedAt the engine may log its `die` event (it is logged once the container is cleaned up). */
export const DIE_EVENT_LAG_NS = 1_000_000_000n;

/**
 * One time-ordered stream out of a catch-up: the engine's replay (`replay`, as the engine sent
 * it) and the deaths rebuilt from container state (`rebuilt`, one per container: its last
 * FinishedAt), merged by time. A death is identified by its container and finish time: the
 * rebuilt death of a container is the same death as the first replayed `die` of that container
 * at or after its finish time (a later death would have moved FinishedAt), so it is dropped
 * then; otherwise the engine no longer has that death's event and the rebuilt one stands in
 * for it, at its own time. Pure.
 */
export function mergeCatchUp(replay: readonly EngineEvent[], rebuilt: readonly EngineEvent[]): EngineEvent[] {
  const firstDieAfter = (id: string, t: string) => replay.some((e) => e.type === 'container' && e.action === 'die' && e.id === id && compareNano(e.timeNano, t) >= 0);
  const missing = rebuilt.filter((r) => !firstDieAfter(r.id, r.timeNano)).sort((a, b) => compareNano(a.timeNano, b.timeNano));
  const out: EngineEvent[] = [];
  let i = 0;
  for (const e of replay) {
    // At equal times the rebuilt death goes first: its container finished before its event was logged.
    while (i < missing.length && compareNano(missing[i]!.timeNano, e.timeNano) <= 0) out.push(missing[i++]!);
    out.push(e);
  }
  while (i < missing.length) out.push(missing[i++]!);
  return out;
}
