import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../common/clock.js';
import { KibokoError } from '../common/errors.js';
import { FakeEngine, type EngineEvent, type EventsOptions } from '../engine/index.js';
import { mergeCatchUp, SYNTHESIZED } from './catchup.js';
import { CursorFile } from './cursor.js';
import { startReactor, type ReactorNotice } from './reactor.js';
import { parseRules } from './rules.js';

/**
 * Exactly once across crashes, over generated histories: containers die while the reactor runs
 * (live), then it crashes and they die 0–5 times each while it is down; the engine's event buffer
 * has rolled over at a random point and its replay stream drops at a random point. The restarted
 * reactor must fire each death it can know of (its event is still in the buffer, or it is the
 * last death of its container, which the container's state keeps) exactly once per rule, in time
 * order, with the same debounce decisions as a reactor that saw the same history live.
 */

/** Cursor files are fsynced on every firing: in memory (tmpfs) where there is one, the runs stay quick. */
const SCRATCH = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

class FakeClock implements Clock {
  constructor(public t: number) {}
  now() {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal) {
    if (signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
    this.t += ms;
    await new Promise((r) => setImmediate(r));
  }
}

/** The fake engine whose event stream drops once, after `dropAfter` events were sent. */
class DroppingEngine extends FakeEngine {
  dropAfter = Number.POSITIVE_INFINITY;
  override async *events(options: EventsOptions = {}): AsyncIterable<EngineEvent> {
    for await (const e of super.events(options)) {
      if (this.dropAfter-- <= 0) {
        this.dropAfter = Number.POSITIVE_INFINITY;
        throw new KibokoError('ENGINE_UNREACHABLE', 'cannot reach the Docker engine: the event stream ended');
      }
      yield e;
    }
  }
}

const RULES = parseRules(`rules:
  - name: each
    on: { type: container, event: die }
    actions: [ { exec: { container: watcher, cmd: [each, "{{.ID}}", "{{.TimeNano}}"] } } ]
  - name: per-rule
    on: { type: container, event: die }
    debounce: 15s
    actions: [ { exec: { container: watcher, cmd: [per-rule, "{{.ID}}", "{{.TimeNano}}"] } } ]
  - name: per-container
    on: { type: container, event: die }
    debounce: 15s
    once_per: container
    actions: [ { exec: { container: watcher, cmd: [per-container, "{{.ID}}", "{{.TimeNano}}"] } } ]
`);

/** A death: container index and finish time (unix ms); its `die` event is logged 200 µs later. */
interface Death {
  c: number;
  ms: number;
}
const LAG_NS = 200_000n;
const nano = (ms: number) => BigInt(ms) * 1_000_000n;
const iso9 = (ns: bigint) => `${new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;

/** A fired action as (rule, container index, finish ms): the death's identity, whichever way it was seen. */
type Firing = string;

async function until(cond: () => boolean, what: string) {
  for (const end = Date.now() + 3000; Date.now() < end; ) {
    for (let i = 0; i < 50; i++) {
      if (cond()) return;
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`${what} not reached`);
}
const settle = async () => {
  for (let i = 0; i < 100; i++) await new Promise((r) => setImmediate(r));
};

function world(containers: number) {
  const engine = new DroppingEngine();
  const watcher = engine.add({ name: 'watcher' });
  const cs = Array.from({ length: containers }, (_, i) => engine.add({ name: `c${i}`, labels: { app: 'x' } }));
  const index = new Map(cs.map((c, i) => [c.id, i]));
  const fired: Firing[] = [];
  const order: bigint[] = [];
  engine.execHandler = (id, cmd) => {
    if (id === watcher.id) {
      const [rule, cid, t] = cmd as [string, string, string];
      fired.push(`${rule} c${index.get(cid)} ${BigInt(t) / 1_000_000n}`);
      if (rule === 'each') order.push(BigInt(t));
    }
    return { exitCode: 0, stdout: '', stderr: '' };
  };
  /** A death: the container's state says so, and the engine logs its die event (and a restart). */
  const die = (d: Death) => {
    const c = cs[d.c]!;
    c.finishedAt = iso9(nano(d.ms));
    c.exitCode = 137;
    engine.emitEvent({ type: 'container', action: 'die', id: c.id, timeNano: (nano(d.ms) + LAG_NS).toString(), attributes: { app: 'x', name: c.name, exitCode: '137' } });
    engine.emitEvent({ type: 'container', action: 'start', id: c.id, timeNano: (nano(d.ms) + 1_000_000n).toString(), attributes: { app: 'x', name: c.name } });
  };
  return { engine, cs, fired, order, die };
}

const history = fc
  .record({
    containers: fc.integer({ min: 1, max: 4 }),
    // Gaps between consecutive deaths (ms): some inside the 15 s debounce, some outside.
    live: fc.array(fc.record({ c: fc.nat(3), gap: fc.integer({ min: 1, max: 25_000 }) }), { maxLength: 6 }),
    down: fc.array(fc.array(fc.integer({ min: 1, max: 25_000 }), { maxLength: 5 }), { minLength: 4, maxLength: 4 }),
    /** Fraction of the engine's buffer that rolled over (0: it still has everything). */
    rolled: fc.double({ min: 0, max: 1, noNaN: true }),
    rollsOver: fc.boolean(),
    /** The restarted reactor's stream drops after this many events (or never). */
    dropAfter: fc.option(fc.nat(20), { nil: undefined }),
  })
  .map((h) => {
    const t0 = Date.now() - 30 * 60_000;
    let t = t0;
    const live: Death[] = h.live.map((d) => ({ c: d.c % h.containers, ms: (t += d.gap) }));
    const crashAt = (t += 1000);
    // Deaths while down: per container 0–5, interleaved by time.
    const down: Death[] = h.down
      .slice(0, h.containers)
      .flatMap((gaps, c) => {
        let u = crashAt;
        return gaps.map((g) => ({ c, ms: (u += g) }));
      })
      .sort((a, b) => a.ms - b.ms)
      .filter((d, i, all) => i === 0 || d.ms !== all[i - 1]!.ms);
    return { ...h, t0, live, crashAt, down };
  });

/** Runs a reactor over deaths it sees live; returns what fired. */
async function liveRun(containers: number, deaths: readonly Death[], t0: number): Promise<Firing[]> {
  const w = world(containers);
  const dir = mkdtempSync(join(SCRATCH, 'kiboko-prop-'));
  try {
    let notices = 0;
    let connected = false;
    const r = startReactor(w.engine, RULES, { clock: new FakeClock(t0 - 1000), cursor: new CursorFile(dir, 'live'), concurrency: 1, onNotice: (n) => void (n.type === 'firing' ? notices++ : n.type === 'connected' && (connected = true)) });
    await until(() => connected, 'listening');
    for (const d of deaths) w.die(d);
    await until(() => notices >= deaths.length * 3, 'live firings');
    await r.stop();
    return w.fired;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('catch-up over generated histories', () => {
  it('fires each knowable death exactly once per rule, in time order, with the debounce decisions of a live run', async () => {
    await fc.assert(
      fc.asyncProperty(history, async (h) => {
        const w = world(h.containers);
        const dir = mkdtempSync(join(SCRATCH, 'kiboko-prop-'));
        try {
          const cursor = new CursorFile(dir, 'rules');
          const clock = new FakeClock(h.t0 - 1000);
          let notices = 0;
          let connected = false;
          const onNotice = (n: ReactorNotice) => void (n.type === 'firing' ? notices++ : n.type === 'connected' && (connected = true));
          const first = startReactor(w.engine, RULES, { clock, cursor, concurrency: 1, onNotice });
          await until(() => connected, 'listening');
          for (const d of h.live) w.die(d);
          await until(() => notices >= h.live.length * 3, 'live firings');
          // The crash: the process is gone; what the cursor says is all that is left.
          await first.stop(0);

          for (const d of h.down) w.die(d);
          // The engine's buffer rolled over: its oldest events are gone for good.
          if (h.rollsOver) w.engine.eventLog.splice(0, Math.floor(h.rolled * w.engine.eventLog.length));
          const buffered = new Set(w.engine.eventLog.filter((e) => e.action === 'die').map((e) => `${e.id} ${BigInt(e.timeNano) / 1_000_000n}`));
          const lastOf = new Map<number, number>();
          for (const d of h.down) lastOf.set(d.c, d.ms);
          const knowable = h.down.filter((d) => buffered.has(`${w.cs[d.c]!.id} ${d.ms}`) || lastOf.get(d.c) === d.ms);

          w.engine.dropAfter = h.dropAfter ?? Number.POSITIVE_INFINITY;
          clock.t = (h.down.at(-1)?.ms ?? h.crashAt) + 5000;
          notices = 0;
          const again = startReactor(w.engine, RULES, { clock, cursor, concurrency: 1, onNotice });
          await until(() => notices >= knowable.length * 3, 'catch-up firings');
          await settle();
          await again.stop();

          // Exactly once per rule: every knowable death, nothing else, nothing twice.
          const each = w.fired.filter((f) => f.startsWith('each ')).slice(h.live.length);
          expect(each.sort()).toEqual(knowable.map((d) => `each c${d.c} ${d.ms}`).sort());
          // In time order.
          const after = w.order.slice(h.live.length);
          expect(after).toEqual([...after].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
          // The same decisions as a live run over the same history.
          const live = await liveRun(h.containers, [...h.live, ...knowable], h.t0);
          expect([...w.fired].sort()).toEqual([...live].sort());
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 100 },
    );
  }, 120_000);
});

describe('mergeCatchUp', () => {
  const ev = (id: string, ns: bigint, action = 'die', synth = false): EngineEvent => ({
    type: 'container',
    action,
    id,
    attributes: synth ? { [SYNTHESIZED]: 'true' } : {},
    time: Number(ns / 1_000_000_000n),
    timeNano: ns.toString(),
    scope: 'local',
  });
  it('drops a rebuilt death the replay has, keeps one it lost, and orders everything by time', () => {
    const replay = [ev('a', 100n), ev('b', 150n, 'start'), ev('a', 300n)];
    const rebuilt = [ev('a', 299n, 'die', true), ev('b', 120n, 'die', true)];
    expect(mergeCatchUp(replay, rebuilt).map((e) => `${e.id}@${e.timeNano}${e.attributes[SYNTHESIZED] ? '*' : ''}`)).toEqual(['a@100', 'b@120*', 'b@150', 'a@300']);
  });
});
