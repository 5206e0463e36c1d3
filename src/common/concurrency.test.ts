import { describe, expect, it } from 'vitest';
import { mapSettled, settlesWithin } from './concurrency.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('mapSettled', () => {
  it('keeps input order whatever the completion order', async () => {
    const items = [5, 1, 4, 2, 3];
    const results = await mapSettled(items, 3, async (n) => {
      for (let i = 0; i < n; i++) await tick();
      return n * 10;
    });
    expect(results).toEqual(items.map((n) => ({ ok: true, value: n * 10 })));
  });

  it.each([1, 2, 4, 10])('never has more than %d in flight', async (limit) => {
    let inFlight = 0;
    let max = 0;
    const items = Array.from({ length: 12 }, (_, i) => i);
    const results = await mapSettled(items, limit, async (n) => {
      inFlight++;
      max = Math.max(max, inFlight);
      for (let i = 0; i < (n % 3) + 1; i++) await tick();
      inFlight--;
      return n;
    });
    expect(max).toBe(Math.min(limit, items.length));
    expect(results.map((r) => r.ok && r.value)).toEqual(items);
  });

  it('keeps the other results when one item rejects', async () => {
    const boom = new Error('boom');
    const results = await mapSettled(['a', 'b', 'c'], 2, async (s, i) => {
      await tick();
      if (s === 'b') throw boom;
      return `${s}${i}`;
    });
    expect(results).toEqual([
      { ok: true, value: 'a0' },
      { ok: false, error: boom },
      { ok: true, value: 'c2' },
    ]);
  });

  it('turns a synchronous throw into a failed result', async () => {
    const results = await mapSettled([1, 2], 1, (n) => {
      if (n === 1) throw new Error('sync');
      return Promise.resolve(n);
    });
    expect(results[0]).toMatchObject({ ok: false });
    expect(results[1]).toEqual({ ok: true, value: 2 });
  });

  it('handles an empty list', async () => {
    let calls = 0;
    expect(
      await mapSettled([], 4, async () => {
        calls++;
      }),
    ).toEqual([]);
    expect(calls).toBe(0);
  });

  it('runs one at a time when the limit is 0', async () => {
    let inFlight = 0;
    let max = 0;
    const results = await mapSettled([1, 2, 3], 0, async (n) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await tick();
      inFlight--;
      return n;
    });
    expect(max).toBe(1);
    expect(results).toHaveLength(3);
  });
});

describe('settlesWithin', () => {
  it('says whether a promise settles, either way, within the time', async () => {
    await expect(settlesWithin(Promise.resolve(1), 1000)).resolves.toBe(true);
    await expect(settlesWithin(Promise.reject(new Error('no')), 1000)).resolves.toBe(true);
    await expect(settlesWithin(new Promise(() => undefined), 20)).resolves.toBe(false);
    await expect(settlesWithin(new Promise((r) => setTimeout(r, 5)), 1000)).resolves.toBe(true);
  });
});
