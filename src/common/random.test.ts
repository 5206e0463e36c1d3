import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRandom, randomUUID, shuffle } from './random.js';

const take = (seed: number, n: number) => {
  const r = createRandom(seed);
  return Array.from({ length: n }, () => r.next());
};

describe('createRandom', () => {
  it('replays the same sequence for the same seed', () => {
    expect(take(42, 50)).toEqual(take(42, 50));
  });

  it('gives different sequences for different seeds', () => {
    expect(take(1, 20)).not.toEqual(take(2, 20));
  });

  it('reports its seed as an unsigned 32-bit number', () => {
    expect(createRandom(7).seed).toBe(7);
    expect(createRandom(-1).seed).toBe(0xffffffff);
  });

  it('stays in range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 1000 }), (seed, n) => {
        const r = createRandom(seed);
        for (let i = 0; i < 20; i++) {
          const f = r.next();
          expect(f).toBeGreaterThanOrEqual(0);
          expect(f).toBeLessThan(1);
          const k = r.int(n);
          expect(Number.isInteger(k)).toBe(true);
          expect(k).toBeGreaterThanOrEqual(0);
          expect(k).toBeLessThan(n);
        }
      }),
    );
  });
});

describe('shuffle', () => {
  it('returns a permutation and leaves the input alone', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer({ min: 0, max: 0xffffffff }), (items, seed) => {
        const copy = [...items];
        const out = shuffle(items, createRandom(seed));
        expect(items).toEqual(copy);
        expect([...out].sort((a, b) => a - b)).toEqual([...items].sort((a, b) => a - b));
      }),
    );
  });

  it('is reproducible from the seed', () => {
    const items = Array.from({ length: 30 }, (_, i) => i);
    expect(shuffle(items, createRandom(99))).toEqual(shuffle(items, createRandom(99)));
    expect(shuffle(items, createRandom(99))).not.toEqual(shuffle(items, createRandom(100)));
  });
});

describe('randomUUID', () => {
  const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('makes version 4 UUIDs, as node:crypto does, all different', () => {
    // 100 of them go through the 256-byte read-ahead more than six times
    const ids = Array.from({ length: 100 }, () => randomUUID());
    for (const id of ids) expect(id).toMatch(V4);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('spreads its random bits (no byte stuck at one value)', () => {
    const ids = Array.from({ length: 64 }, () => randomUUID().replace(/-/g, ''));
    // every hex position but the version digit varies across 64 ids
    for (let i = 0; i < 32; i++) {
      const seen = new Set(ids.map((id) => id[i]));
      if (i === 12) expect([...seen]).toEqual(['4']);
      else expect(seen.size).toBeGreaterThan(1);
    }
  });
});
