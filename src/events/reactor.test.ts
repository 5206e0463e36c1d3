import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../common/clock.js';
import { FakeEngine, type EngineEvent } from '../engine/index.js';
import { CursorFile } from './cursor.js';
import { startReactor, type FiringRecord, type ReactorNotice } from './reactor.js';
import { parseRules } from './rules.js';
import { createEventBus, deployEvent } from './types.js';
import { watchEvents } from './watch.js';

/** Time that only moves when something sleeps; sleeping yields once so other tasks run. */
class FakeClock implements Clock {
  constructor(public t = Date.now()) {}
  now() {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal) {
    if (signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
    this.t += ms;
    await new Promise((r) => setImmediate(r));
  }
}

const tick = () => new Promise((r) => setImmediate(r));
/** Yields until `cond` holds (bounded by the wall clock: the cursor file is real I/O). */
async function until(cond: () => boolean, what = 'condition') {
  for (const end = Date.now() + 10_000; Date.now() < end; ) {
    for (let i = 0; i < 50; i++) {
      if (cond()) return;
      await tick();
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`${what} not reached`);
}

const dirs: string[] = [];
const stateDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'kiboko-events-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const RULES = `rules:
  - name: on-die
    on: { type: container, event: die, label: app=db }
    actions:
      - exec: { container: watcher, cmd: [record, "{{.Actor.Attributes.name}}", "{{.Actor.Attributes.exitCode}}"] }
`;

function setup(rulesText = RULES) {
  const engine = new FakeEngine();
  const watcher = engine.add({ name: 'watcher' });
  const execs: string[][] = [];
  engine.execHandler = (id, cmd) => {
    if (id === watcher.id) execs.push([...cmd]);
    return { exitCode: 0, stdout: '', stderr: '' };
  };
  const firings: FiringRecord[] = [];
  const notices: ReactorNotice[] = [];
  const onNotice = (n: ReactorNotice) => {
    notices.push(n);
    if (n.type === 'firing') firings.push(n.firing);
  };
  return { engine, watcher, execs, firings, notices, onNotice, rules: parseRules(rulesText), clock: new FakeClock() };
}

const die = (engine: FakeEngine, name: string, labels: Record<string, string> = { app: 'db' }, code = '137'): EngineEvent =>
  engine.emitEvent({ type: 'container', action: 'die', id: `${name}`.padEnd(64, '0'), attributes: { ...labels, name, exitCode: code } });

describe('watchEvents', () => {
  it('reconnects after the stream drops and resumes with since, yielding every event once', async () => {
    const engine = new FakeEngine();
    const clock = new FakeClock();
    const controller = new AbortController();
    const states: string[] = [];
    const got: string[] = [];
    const it = watchEvents(engine, { signal: controller.signal, clock, onState: (s) => states.push(s.state) });
    const consumer = (async () => {
      for await (const e of it) got.push(e.attributes.name!);
    })();
    await until(() => states.includes('connected'));
    engine.emitEvent({ action: 'start', attributes: { name: 'a' } });
    await until(() => got.length === 1);
    // The engine goes away; events happen meanwhile (as replayed after a restart); it comes back.
    engine.unreachable = true;
    engine.dropEventStreams();
    await until(() => states.includes('disconnected'));
    engine.unreachable = false;
    engine.emitEvent({ action: 'start', attributes: { name: 'b' } });
    await until(() => got.length === 2, 'the missed event');
    engine.emitEvent({ action: 'start', attributes: { name: 'c' } });
    await until(() => got.length === 3);
    controller.abort();
    await consumer;
    expect(got).toEqual(['a', 'b', 'c']);
    expect(states.filter((s) => s === 'connected').length).toBeGreaterThanOrEqual(2);
  });

  it('says connected again only once the engine answers, not from an info() that keeps its first answer', async () => {
    const engine = new FakeEngine();
    const first = await engine.info();
    engine.info = async () => first; // as DockerEngine's: asked once, then remembered
    const clock = new FakeClock();
    const controller = new AbortController();
    const states: string[] = [];
    const consumer = (async () => {
      for await (const _ of watchEvents(engine, { signal: controller.signal, clock, onState: (s) => states.push(s.state) }));
    })();
    await until(() => states.includes('connected'));
    engine.unreachable = true;
    engine.dropEventStreams();
    await until(() => states.filter((s) => s === 'disconnected').length >= 3, 'three failed reconnects');
    const whileDown = states.slice(states.indexOf('disconnected'));
    engine.unreachable = false;
    await until(() => states.at(-1) === 'connected', 'the reconnect');
    controller.abort();
    await consumer;
    expect(whileDown.filter((s) => s === 'connected')).toEqual([]);
  });

  it('skips the boundary events it already yielded when several share a nanosecond', async () => {
    const engine = new FakeEngine();
    const same = '1700000000000000001';
    const a = engine.emitEvent({ action: 'die', id: 'x', timeNano: same, attributes: { name: 'a' } });
    engine.emitEvent({ action: 'die', id: 'y', timeNano: same, attributes: { name: 'b' } });
    engine.emitEvent({ action: 'die', id: 'z', timeNano: '1700000000000000002', attributes: { name: 'c' } });
    const got: string[] = [];
    const controller = new AbortController();
    for await (const e of watchEvents(engine, { since: same, seen: [`${a.timeNano}|container|x|die`], signal: controller.signal, until: '1700000000000000003' })) got.push(e.attributes.name!);
    expect(got).toEqual(['b', 'c']);
  });
});

describe('startReactor', () => {
  it('fires a rule once per matching event, and only for matching ones', async () => {
    const s = setup();
    const reactor = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice });
    await until(() => s.notices.some((n) => n.type === 'connected'));
    die(s.engine, 'db-1');
    die(s.engine, 'web-1', { app: 'web' });
    s.engine.emitEvent({ action: 'start', id: 'q', attributes: { app: 'db', name: 'db-1' } });
    die(s.engine, 'db-2', { app: 'db' }, '1');
    await until(() => s.firings.length === 2);
    await reactor.stop();
    expect(s.execs).toEqual([
      ['record', 'db-1', '137'],
      ['record', 'db-2', '1'],
    ]);
    expect(s.firings.map((f) => [f.rule, f.outcome, f.event.name])).toEqual([
      ['on-die', 'ok', 'db-1'],
      ['on-die', 'ok', 'db-2'],
    ]);
  });

  it('catches up after a reconnect without firing twice for the same event', async () => {
    const s = setup();
    const reactor = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice, backoff: { initialMs: 10, maxMs: 10 } });
    await until(() => s.notices.some((n) => n.type === 'connected'));
    die(s.engine, 'db-1');
    await until(() => s.firings.length === 1);
    s.engine.unreachable = true;
    s.engine.dropEventStreams();
    await until(() => s.notices.some((n) => n.type === 'disconnected'));
    die(s.engine, 'db-2'); // happens while the reactor is disconnected
    s.engine.unreachable = false;
    await until(() => s.firings.length === 2, 'the missed event');
    die(s.engine, 'db-3');
    await until(() => s.firings.length === 3);
    await reactor.stop();
    expect(s.execs.map((c) => c[1])).toEqual(['db-1', 'db-2', 'db-3']);
  });

  it('persists a cursor so a restarted reactor processes what it missed, once', async () => {
    const s = setup();
    const cursor = new CursorFile(stateDir(), 'rules');
    const first = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice, cursor });
    await until(() => s.notices.some((n) => n.type === 'connected'));
    die(s.engine, 'db-1');
    await until(() => s.firings.length === 1);
    await first.stop();
    const saved = cursor.read()!;
    expect(saved.keys).toHaveLength(1);
    // Down: two events happen, one of them matching.
    die(s.engine, 'db-2');
    die(s.engine, 'web-1', { app: 'web' });
    const notices: ReactorNotice[] = [];
    const second = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: (n) => (notices.push(n), s.onNotice(n)), cursor });
    await until(() => s.firings.length === 2, 'the missed event');
    die(s.engine, 'db-3');
    await until(() => s.firings.length === 3);
    await second.stop();
    expect(s.execs.map((c) => c[1])).toEqual(['db-1', 'db-2', 'db-3']);
    expect(notices.find((n) => n.type === 'catch-up')).toMatchObject({ from: 'cursor', clamped: false, since: saved.timeNano });
    expect(JSON.parse(readFileSync(cursor.path, 'utf8')).timeNano).not.toBe(saved.timeNano);
  });

  it('clamps an old cursor to --max-catchup', async () => {
    const s = setup();
    const cursor = new CursorFile(stateDir(), 'rules');
    cursor.write({ timeNano: String(BigInt(s.clock.now() - 7_200_000) * 1_000_000n), keys: [] });
    const r = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice, cursor, maxCatchupMs: 60_000 });
    await r.stop();
    expect(s.notices.find((n) => n.type === 'catch-up')).toMatchObject({ from: 'cursor', clamped: true, since: String(BigInt(s.clock.now() - 60_000) * 1_000_000n) });
    expect(s.notices.some((n) => n.type === 'warning' && /older than --max-catchup/.test(n.message))).toBe(true);
  });

  it('never moves the cursor past an event whose actions have not finished', async () => {
    const s = setup(`rules:
  - name: hook
    on: { event: die }
    actions: [ { notify: { url: "http://hooks.test/x" } } ]
`);
    let release: (() => void) | undefined;
    const posted: string[] = [];
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      posted.push(String(init.body));
      if (posted.length === 1) await new Promise<void>((r) => (release = r));
      return new Response('ok', { status: 200 });
    }) as typeof fetch;
    const cursor = new CursorFile(stateDir(), 'rules');
    const r = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice, cursor, actions: { fetch: fetchImpl }, concurrency: 2 });
    await until(() => s.notices.some((n) => n.type === 'connected'));
    const slow = die(s.engine, 'db-1');
    const fast = die(s.engine, 'db-2');
    await until(() => s.firings.length === 1, 'the fast firing');
    // db-2 is done but db-1 is not: the cursor may not pass db-1.
    expect(cursor.read()?.timeNano ?? '0').not.toBe(fast.timeNano);
    release!();
    await until(() => s.firings.length === 2);
    await r.stop();
    expect(cursor.read()).toMatchObject({ timeNano: fast.timeNano });
    expect(BigInt(slow.timeNano) < BigInt(fast.timeNano)).toBe(true);
  });

  it('after a crash, replays the unfinished firing but never one that finished', async () => {
    const s = setup(`rules:
  - name: hook
    on: { event: die }
    actions: [ { notify: { url: "http://hooks.test/x" } } ]
`);
    const posted: string[] = [];
    const hanging = (async (_url: string, init: RequestInit) => {
      const name = JSON.parse(String(init.body)).event.Actor.Attributes.name as string;
      if (name === 'db-1') await new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
      posted.push(name);
      return new Response('ok');
    }) as typeof fetch;
    const cursor = new CursorFile(stateDir(), 'rules');
    const first = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice, cursor, actions: { fetch: hanging }, concurrency: 2 });
    await until(() => s.notices.some((n) => n.type === 'connected'));
    die(s.engine, 'db-1');
    const second = die(s.engine, 'db-2');
    await until(() => posted.length === 1);
    expect(cursor.read()!.fired).toEqual([`${second.timeNano}|container|${'db-2'.padEnd(64, '0')}|die#hook`]);
    // The process dies with db-1's action in flight (a zero grace period cancels it).
    await first.stop(0);
    const working = (async (_url: string, init: RequestInit) => {
      posted.push(JSON.parse(String(init.body)).event.Actor.Attributes.name as string);
      return new Response('ok');
    }) as typeof fetch;
    const n = s.firings.length;
    const again = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice, cursor, actions: { fetch: working } });
    await until(() => s.firings.length === n + 1);
    die(s.engine, 'db-3');
    await until(() => s.firings.length === n + 2);
    await again.stop();
    expect(posted).toEqual(['db-2', 'db-1', 'db-3']);
  });

  it('keeps the firings a crashed run finished through a second crash before they are replayed', async () => {
    const s = setup(`rules:
  - name: hook
    on: { event: die }
    actions: [ { notify: { url: "http://hooks.test/x" } } ]
`);
    const posted: string[] = [];
    const fetchWith = (hang: (name: string) => boolean) =>
      (async (_url: string, init: RequestInit) => {
        const name = JSON.parse(String(init.body)).event.Actor.Attributes.name as string;
        if (hang(name)) await new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
        posted.push(name);
        return new Response('ok');
      }) as typeof fetch;
    const cursor = new CursorFile(stateDir(), 'rules');
    const first = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice, cursor, actions: { fetch: fetchWith((n) => n === 'db-1') }, concurrency: 2 });
    await until(() => s.notices.some((n) => n.type === 'connected'));
    die(s.engine, 'db-1');
    die(s.engine, 'db-2');
    await until(() => posted.length === 1);
    await first.stop(0);
    // Crashes again while db-1's replayed action still hangs: the cursor must still say db-2 was done.
    const second = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice, cursor, actions: { fetch: fetchWith(() => true) } });
    await until(() => s.engine.calls.filter((c) => c.op === 'events').length >= 3 || s.notices.filter((n) => n.type === 'connected').length >= 2);
    await second.stop(0);
    const n = s.firings.length;
    const third = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice, cursor, actions: { fetch: fetchWith(() => false) } });
    await until(() => s.firings.length >= n + 1);
    for (let i = 0; i < 100; i++) await tick();
    await third.stop();
    expect(posted).toEqual(['db-2', 'db-1']);
  });

  it('rebuilds deaths the engine lost in a restart from container state, and never fires twice for one', async () => {
    const s = setup();
    s.clock.t = Date.now() - 10_000;
    const db1 = s.engine.add({ name: 'db-1', labels: { app: 'db' } });
    const db2 = s.engine.add({ name: 'db-2', labels: { app: 'db' } });
    const r = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice });
    await until(() => s.notices.some((n) => n.type === 'connected'));
    s.engine.emitEvent({ action: 'start', id: 'x', timeNano: String(BigInt(Date.now() - 5_000) * 1_000_000n), attributes: { name: 'x' } });
    // dockerd goes down: the stream drops, db-1 dies, and the engine's event buffer is gone.
    s.engine.unreachable = true;
    s.engine.dropEventStreams();
    await until(() => s.notices.some((n) => n.type === 'disconnected'));
    s.engine.unreachable = false;
    await s.engine.kill(db1.id, 'SIGKILL');
    s.engine.eventLog.length = 0;
    await until(() => s.firings.length === 1, 'the rebuilt death');
    expect(s.firings[0]!.event).toMatchObject({ id: db1.id, action: 'die' });
    expect(s.execs).toEqual([['record', 'db-1', '137']]);
    // A death both rebuilt (after a gap) and replayed by the engine fires once.
    s.engine.unreachable = true;
    s.engine.dropEventStreams();
    await until(() => s.notices.filter((n) => n.type === 'disconnected').length === 2);
    s.engine.unreachable = false;
    await s.engine.kill(db2.id, 'SIGKILL');
    await until(() => s.firings.length === 2, 'the second death');
    for (let i = 0; i < 200; i++) await tick();
    await r.stop();
    expect(s.execs).toEqual([
      ['record', 'db-1', '137'],
      ['record', 'db-2', '137'],
    ]);
  });

  it('fires for every real death of one container, however close together', async () => {
    const s = setup();
    const r = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice });
    await until(() => s.notices.some((n) => n.type === 'connected'));
    die(s.engine, 'db-1');
    die(s.engine, 'db-1');
    await until(() => s.firings.length === 2);
    await r.stop();
    expect(s.execs).toHaveLength(2);
  });

  it('debounces per rule or per container on the events’ own times', async () => {
    const s = setup(`rules:
  - name: per-rule
    on: { event: die }
    debounce: 10s
    actions: [ { exec: { container: watcher, cmd: [rule, "{{.Actor.Attributes.name}}"] } } ]
  - name: per-container
    on: { event: die }
    debounce: 10s
    once_per: container
    actions: [ { exec: { container: watcher, cmd: [container, "{{.Actor.Attributes.name}}"] } } ]
`);
    const r = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice });
    await until(() => s.notices.some((n) => n.type === 'connected'));
    const t0 = BigInt(s.clock.now() + 1000) * 1_000_000n;
    const at = (sec: number) => String(t0 + BigInt(sec) * 1_000_000_000n);
    s.engine.emitEvent({ action: 'die', id: 'a', timeNano: at(0), attributes: { name: 'a' } });
    s.engine.emitEvent({ action: 'die', id: 'b', timeNano: at(1), attributes: { name: 'b' } });
    s.engine.emitEvent({ action: 'die', id: 'a', timeNano: at(2), attributes: { name: 'a' } });
    s.engine.emitEvent({ action: 'die', id: 'a', timeNano: at(12), attributes: { name: 'a' } });
    await until(() => s.firings.length === 8);
    await r.stop();
    expect(s.execs.map((c) => c.join(' '))).toEqual(['rule a', 'container a', 'container b', 'rule a', 'container a']);
    expect(s.firings.filter((f) => f.outcome === 'debounced').map((f) => `${f.rule} ${f.event.name}`)).toEqual(['per-rule b', 'per-rule a', 'per-container a']);
  });

  it('times out a slow action, stops the rule there and reports each action', async () => {
    const s = setup(`rules:
  - name: slow
    on: { event: die }
    actions:
      - notify: { url: "http://hooks.test/x", timeout: 50ms }
      - exec: { container: watcher, cmd: [never] }
`);
    const fetchImpl = ((_url: string, init: RequestInit) =>
      new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)))) as typeof fetch;
    const r = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice, actions: { fetch: fetchImpl } });
    await until(() => s.notices.some((n) => n.type === 'connected'));
    die(s.engine, 'db-1');
    for (let i = 0; i < 200 && s.firings.length === 0; i++) await new Promise((res) => setTimeout(res, 5));
    await r.stop();
    expect(s.firings[0]).toMatchObject({ outcome: 'failed', actions: [{ kind: 'notify', outcome: 'timeout' }, { kind: 'exec', outcome: 'skipped' }] });
    expect(s.execs).toEqual([]);
  });

  it('reacts to kiboko events from a bus, and dry-run only says what it would do', async () => {
    const s = setup(`rules:
  - name: undo
    on: { type: deploy, event: failed }
    actions: [ { rollback: { project: "{{.Actor.Attributes.project}}" } } ]
`);
    const bus = createEventBus();
    const rolled: string[] = [];
    const r = startReactor(s.engine, s.rules, { clock: s.clock, onNotice: s.onNotice, bus, actions: { rollback: async (p) => (rolled.push(p), `rolled back ${p}`) } });
    bus.publish(deployEvent({ project: 'shop', rev: 4, outcome: 'failed', trigger: 'apply', source: 'x' }));
    bus.publish(deployEvent({ project: 'shop', rev: 5, outcome: 'ok', trigger: 'apply', source: 'x' }));
    await until(() => s.firings.length === 1);
    await r.stop();
    expect(rolled).toEqual(['shop']);
    // The engine is never asked for events when no rule wants them.
    expect(s.engine.calls.some((c) => c.op === 'events')).toBe(false);

    const dry = setup(RULES);
    const d = startReactor(dry.engine, dry.rules, { clock: dry.clock, onNotice: dry.onNotice, dryRun: true });
    await until(() => dry.notices.some((n) => n.type === 'connected'));
    die(dry.engine, 'db-1');
    await until(() => dry.firings.length === 1);
    await d.stop();
    expect(dry.execs).toEqual([]);
    expect(dry.firings[0]).toMatchObject({ outcome: 'dry-run', actions: [{ kind: 'exec', outcome: 'dry-run', detail: 'would exec ["record","db-1","137"] in watcher' }] });
  });
});
