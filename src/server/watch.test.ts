import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRegistry } from '../units/index.js';
import type { WatchEvent, WatchReport } from '../watch/index.js';
import { FailureThrottle } from './auth.js';
import { EventBus } from './bus.js';
import { startServer, type RunningServer } from './http.js';
import { WatchService, type WatchPassRunner } from './watch.js';

const report = (n: number): WatchReport => ({
  startedAt: new Date(n * 1000).toISOString(),
  finishedAt: new Date(n * 1000 + 5).toISOString(),
  ms: 5,
  checked: n,
  newer: 0,
  updated: 0,
  rolledBack: 0,
  failed: 0,
  skipped: 0,
  items: [{ kind: 'container', name: `c${n}`, image: 'x:1', status: 'up-to-date' }],
  registry: { requests: 1, tokens: 0, retries: 0, failed: 0 } as WatchReport['registry'],
});

/** A pass runner the test releases by hand; counts passes and sees the signal. */
function gated() {
  const waiting: (() => void)[] = [];
  let passes = 0;
  let lastSignal: AbortSignal | undefined;
  const run: WatchPassRunner = async ({ signal, onEvent }) => {
    const n = ++passes;
    lastSignal = signal;
    onEvent({ type: 'pass-started', at: new Date().toISOString(), targets: 1 } as WatchEvent);
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const r = report(n);
    onEvent({ type: 'pass-finished', at: new Date().toISOString(), report: r });
    return r;
  };
  /** Releases the pass in progress, once it has started (polls: on a loaded machine it may not have yet). */
  const release = async () => {
    while (waiting.length === 0) await new Promise((r) => setTimeout(r, 5));
    waiting.shift()!();
  };
  return { run, release, passes: () => passes, signal: () => lastSignal };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WatchService', () => {
  it('runs one pass at a time: triggers during a pass fold into one pass after it', async () => {
    const g = gated();
    const bus = new EventBus();
    const s = new WatchService({ run: g.run, bus });
    const a = s.trigger();
    const b = s.trigger();
    const c = s.trigger();
    expect(a).toMatchObject({ pass: 1, coalesced: false });
    expect(b).toMatchObject({ pass: 2, coalesced: true });
    expect(c).toMatchObject({ pass: 2, coalesced: true });
    await tick();
    expect(g.passes()).toBe(1);
    await g.release();
    expect((await a.done)?.checked).toBe(1);
    await g.release();
    expect(g.passes()).toBe(2);
    expect((await b.done)?.checked).toBe(2);
    expect(s.reports().map((r) => r.checked)).toEqual([2, 1]); // newest first
    expect(bus.replay({}).map((e) => `${e.type}#${String(e.data.pass)}`)).toEqual(['watch.pass.started#1', 'watch.pass.finished#1', 'watch.pass.started#2', 'watch.pass.finished#2']);
    await s.close();
  });

  it('keeps only the newest reports', async () => {
    const s = new WatchService({ run: async () => report(Math.floor(Math.random() * 1e6)), keep: 3 });
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) seen.push((await s.trigger().done)!.checked);
    expect(s.reports().map((r) => r.checked)).toEqual(seen.slice(2).reverse());
    await s.close();
  });

  it('a failing pass is published as watch.pass.failed and the service keeps going', async () => {
    const bus = new EventBus();
    let n = 0;
    const s = new WatchService({ run: async () => (++n === 1 ? Promise.reject(new Error('registry down')) : report(7)), bus });
    expect(await s.trigger().done).toBeUndefined();
    expect(bus.replay({}).find((e) => e.type === 'watch.pass.failed')?.data).toMatchObject({ pass: 1, error: { message: expect.stringContaining('registry down') } });
    expect((await s.trigger().done)?.checked).toBe(7);
    await s.close();
  });

  it('close() cancels the running pass through its signal, waits for it and starts nothing more', async () => {
    const g = gated();
    let closed = false;
    const s = new WatchService({ run: g.run, schedule: { kind: 'interval', ms: 10 }, onClose: () => (closed = true) });
    s.start();
    await tick();
    expect(g.passes()).toBe(1);
    await s.close();
    expect(g.signal()?.aborted).toBe(true);
    expect(closed).toBe(true);
    expect(s.reports()).toHaveLength(1); // the cancelled pass still reports what it did
    await new Promise((r) => setTimeout(r, 30));
    expect(g.passes()).toBe(1);
    expect(s.trigger().pass).toBe(0);
  });
});

describe('GET /v1/watch/reports, POST /v1/watch/run', () => {
  const TOKEN = 'watch-test-token-0123456789abcdef';
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const start = async (watch?: WatchService) => {
    server = await startServer({ token: TOKEN, registry: new MemoryRegistry(), listen: '127.0.0.1:0', bus: new EventBus(), ...(watch ? { watch } : {}), throttle: new FailureThrottle({ freeFailures: 1_000_000, globalPerSecond: 1_000_000 }) });
    return server.addresses[0]!.replace(/\/$/, '');
  };
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('behind the token; reports newest first; a run now, coalesced while one runs; ?wait=true answers with the report', async () => {
    const g = gated();
    const s = new WatchService({ run: g.run });
    let triggers = 0;
    const trigger = s.trigger.bind(s);
    s.trigger = (reason) => (triggers++, trigger(reason));
    const base = await start(s);
    expect((await fetch(`${base}/v1/watch/reports`)).status).toBe(401);
    expect((await fetch(`${base}/v1/watch/run`, { method: 'POST' })).status).toBe(401);
    expect(await (await fetch(`${base}/v1/watch/reports`, { headers: auth })).json()).toEqual({ reports: [] });
    const r1 = await fetch(`${base}/v1/watch/run`, { method: 'POST', headers: auth });
    expect(r1.status).toBe(202);
    expect(await r1.json()).toEqual({ pass: 1, coalesced: false });
    const r2 = await fetch(`${base}/v1/watch/run`, { method: 'POST', headers: auth });
    expect(await r2.json()).toEqual({ pass: 2, coalesced: true });
    const waiting = fetch(`${base}/v1/watch/run?wait=true`, { method: 'POST', headers: auth });
    while (triggers < 3) await new Promise((r) => setTimeout(r, 5)); // the ?wait request is in, folded into pass 2
    await g.release();
    await g.release();
    const w = await waiting;
    expect(w.status).toBe(200);
    expect(await w.json()).toMatchObject({ pass: 2, coalesced: true, report: { checked: 2 } });
    const body = (await (await fetch(`${base}/v1/watch/reports`, { headers: auth })).json()) as { reports: WatchReport[] };
    expect(body.reports.map((r) => r.checked)).toEqual([2, 1]);
    expect(body.reports[0]).toMatchObject({ items: [{ name: 'c2', status: 'up-to-date' }], registry: { requests: 1 } });
    expect((await fetch(`${base}/v1/watch/run?wait=maybe`, { method: 'POST', headers: auth })).status).toBe(400);
    expect((await fetch(`${base}/v1/watch/reports`, { method: 'DELETE', headers: auth })).status).toBe(405);
    await s.close();
  });

  it('answers 503 NOT_ENABLED without --watch', async () => {
    const base = await start();
    const r = await fetch(`${base}/v1/watch/reports`, { headers: auth });
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: { code: string; hint: string } }).error).toMatchObject({ code: 'NOT_ENABLED', hint: expect.stringContaining('--watch') });
  });
});
