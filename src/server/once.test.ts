import { describe, expect, it } from 'vitest';
import { singleFlight } from './once.js';

describe('singleFlight (what /healthz and /metrics answer from)', () => {
  it('1,000 concurrent callers make one call; within the ttl none; a failure is not remembered', async () => {
    let t = 0;
    let calls = 0;
    let fail = false;
    const f = singleFlight(
      async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 10));
        if (fail) throw new Error('down');
        return calls;
      },
      2000,
      () => t,
    );
    expect(new Set(await Promise.all(Array.from({ length: 1000 }, f)))).toEqual(new Set([1]));
    t += 1999;
    expect(await f()).toBe(1);
    expect(calls).toBe(1);
    t += 2;
    fail = true;
    await expect(f()).rejects.toThrow('down');
    fail = false;
    expect(await f()).toBe(3);
  });
});

describe('/metrics is cheap', () => {
  it('100 concurrent scrapes list the units once; the next scrapes within 5 s not at all', { timeout: 30_000 }, async () => {
    const { Metrics } = await import('./metrics.js');
    const { MemoryRegistry } = await import('../units/index.js');
    const registry = new MemoryRegistry();
    let lists = 0;
    const list = registry.list.bind(registry);
    registry.list = async () => {
      lists++;
      return list();
    };
    const m = new Metrics({ registry });
    const texts = await Promise.all(Array.from({ length: 100 }, () => m.text()));
    expect(texts[0]!.body).toContain('kiboko_units');
    expect(lists).toBe(1);
    await m.text();
    expect(lists).toBe(1);
    m.close();
  });
});
