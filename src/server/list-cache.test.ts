import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { MemoryRegistry, type FleetResponse } from '../units/index.js';
import { ListCache } from './list-cache.js';

/** A response that records what was written. */
function fakeRes() {
  const r = { status: 0, headers: {} as Record<string, string>, body: '' };
  const res = {
    writeHead: (s: number, h: Record<string, string>) => Object.assign(r, { status: s, headers: h }),
    end: (b: Buffer) => (r.body = b.toString()),
  } as unknown as ServerResponse;
  return { res, r };
}

function setup() {
  let t = 0;
  const cache = new ListCache(1000, () => t);
  let computed = 0;
  let gate: (() => void) | undefined;
  const compute = (status = 200) => async (): Promise<FleetResponse> => {
    computed++;
    const n = computed;
    if (gate === undefined) return { status, body: { n }, headers: { 'content-type': 'application/json' } };
    await new Promise<void>((resolve) => (gate = resolve));
    return { status, body: { n }, headers: { 'content-type': 'application/json' } };
  };
  const get = async (c = compute()) => {
    const { res, r } = fakeRes();
    await cache.serve(res, '/fleet/v1/units', c);
    return r;
  };
  return {
    cache,
    get,
    compute,
    advance: (ms: number) => (t += ms),
    computed: () => computed,
    hold: () => (gate = () => undefined),
    release: () => {
      const g = gate;
      gate = undefined;
      g?.();
    },
  };
}

describe('ListCache', () => {
  it('covers only GETs of the fleet collections', () => {
    const c = new ListCache();
    expect(c.covers('GET', '/fleet/v1/units')).toBe(true);
    expect(c.covers('GET', '/v1-alpha/state')).toBe(true);
    expect(c.covers('GET', '/fleet/v1/machines/')).toBe(true);
    expect(c.covers('GET', '/fleet/v1/units/web.service')).toBe(false);
    expect(c.covers('PUT', '/fleet/v1/units')).toBe(false);
    expect(c.covers('GET', '/v1/units')).toBe(false);
    expect(new ListCache(0).covers('GET', '/fleet/v1/units')).toBe(false);
  });

  it('answers from cache while fresh, with the same bytes and a content-length', async () => {
    const s = setup();
    const a = await s.get();
    s.advance(400);
    const b = await s.get();
    expect(s.computed()).toBe(1);
    expect(b).toEqual(a);
    expect(a).toEqual({ status: 200, headers: { 'content-type': 'application/json', 'content-length': '7' }, body: '{"n":1}' });
  });

  it('serves an older answer while one background computation refreshes it, and recomputes once it is too old', async () => {
    const s = setup();
    await s.get();
    s.advance(600); // past ttl/2: stale-while-revalidate
    expect((await s.get()).body).toBe('{"n":1}');
    await Promise.resolve();
    expect(s.computed()).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect((await s.get()).body).toBe('{"n":2}');
    s.advance(1500); // past ttl: computed now
    expect((await s.get()).body).toBe('{"n":3}');
  });

  it('shares one computation among concurrent requests', async () => {
    const s = setup();
    s.hold();
    const all = Promise.all([s.get(), s.get(), s.get()]);
    await Promise.resolve();
    s.release();
    expect((await all).map((r) => r.body)).toEqual(['{"n":1}', '{"n":1}', '{"n":1}']);
    expect(s.computed()).toBe(1);
  });

  it('drops everything on a write, and never stores what was computed while a write happened', async () => {
    const s = setup();
    await s.get();
    s.cache.invalidate();
    expect((await s.get()).body).toBe('{"n":2}');

    s.cache.invalidate();
    s.hold();
    const during = s.get();
    await Promise.resolve();
    s.cache.invalidate(); // a write finished while the page was being computed
    s.release();
    expect((await during).body).toBe('{"n":3}');
    expect((await s.get()).body).toBe('{"n":4}');
  });

  it('does not keep error answers', async () => {
    const s = setup();
    expect((await s.get(s.compute(400))).status).toBe(400);
    expect((await s.get()).status).toBe(200);
    expect(s.computed()).toBe(2);
  });

  it("shares the registry's collection reads among page computations", async () => {
    const reg = new MemoryRegistry();
    let lists = 0;
    const list = reg.list.bind(reg);
    reg.list = async () => {
      lists++;
      return list();
    };
    const cache = new ListCache(1000, () => 0);
    const view = cache.registry(reg);
    await Promise.all([view.list(), view.list(), view.list()]);
    expect(lists).toBe(1);
    await reg.put({ name: 'a.service', options: [{ section: 'Service', name: 'ExecStart', value: '/usr/bin/docker run x' }], desiredState: 'inactive' });
    cache.invalidate();
    expect((await view.list()).map((u) => u.name)).toEqual(['a.service']);
    expect(await view.get('a.service')).toMatchObject({ name: 'a.service' });
  });
});
