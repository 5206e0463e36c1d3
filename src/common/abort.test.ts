import { describe, expect, it } from 'vitest';
import { onAbort, restUnlessAborted } from './abort.js';

describe('onAbort', () => {
  it('runs once when the signal aborts later', () => {
    const c = new AbortController();
    let calls = 0;
    onAbort(c.signal, () => calls++);
    expect(calls).toBe(0);
    c.abort();
    c.abort();
    expect(calls).toBe(1);
  });

  it('runs at once for a signal that has already aborted (a late listener would never fire)', () => {
    const c = new AbortController();
    c.abort();
    let calls = 0;
    onAbort(c.signal, () => calls++);
    expect(calls).toBe(1);
  });

  it('is removed by what it returns; no signal means never', () => {
    const c = new AbortController();
    let calls = 0;
    const off = onAbort(c.signal, () => calls++);
    off();
    c.abort();
    expect(calls).toBe(0);
    expect(() => onAbort(undefined, () => calls++)()).not.toThrow();
    expect(calls).toBe(0);
  });
});

describe('restUnlessAborted', () => {
  it('resolves after the time', async () => {
    const t0 = Date.now();
    await restUnlessAborted(30, new AbortController().signal);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('resolves as soon as the signal aborts, and at once when it had already', async () => {
    const c = new AbortController();
    const t0 = Date.now();
    setTimeout(() => c.abort(), 20);
    await restUnlessAborted(60_000, c.signal);
    await restUnlessAborted(Number.POSITIVE_INFINITY, c.signal);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
