import { describe, expect, it } from 'vitest';
import { withTimeout } from './actions.js';

describe('withTimeout', () => {
  it('a parent that has already aborted cancels at once, even when the action ignores its signal', async () => {
    const parent = new AbortController();
    parent.abort();
    const t0 = Date.now();
    const never = () => new Promise<never>(() => undefined);
    await expect(withTimeout(60_000, parent.signal, 'webhook', never)).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('a parent aborted while the action runs cancels it; the time limit gives TIMEOUT', async () => {
    const parent = new AbortController();
    setTimeout(() => parent.abort(), 10);
    await expect(withTimeout(60_000, parent.signal, 'webhook', (s) => new Promise((_, reject) => s.addEventListener('abort', () => reject(s.reason))))).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(withTimeout(20, new AbortController().signal, 'webhook', () => new Promise<never>(() => undefined))).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('returns what the action returns', async () => {
    await expect(withTimeout(1_000, new AbortController().signal, 'x', async () => 42)).resolves.toBe(42);
  });
});
