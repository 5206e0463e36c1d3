import { describe, expect, it } from 'vitest';
import type { Clock } from '../common/clock.js';
import { parseWait, quiesce } from './debounce.js';

class FakeClock implements Clock {
  t = 0;
  onSleep: ((ms: number) => void) | undefined;
  now() {
    return this.t;
  }
  async sleep(ms: number) {
    this.t += ms;
    this.onSleep?.(ms);
  }
}

describe('--wait (consul-template quiescence)', () => {
  it('parses min[:max]; max defaults to 4×min', () => {
    expect(parseWait('2s:10s')).toEqual({ minMs: 2000, maxMs: 10000 });
    expect(parseWait('500ms')).toEqual({ minMs: 500, maxMs: 2000 });
    expect(() => parseWait('10s:2s')).toThrow(/shorter than min/);
    expect(() => parseWait('1s:2s:3s')).toThrow(/min or min:max/);
  });

  it('renders after min of quiet', async () => {
    const clock = new FakeClock();
    await quiesce(clock, { minMs: 1000, maxMs: 5000 }, 0, () => 0);
    expect(clock.t).toBe(1000);
  });

  it('each change pushes the render back by min', async () => {
    const clock = new FakeClock();
    let last = 0;
    // A change arrives during each of the first two waits.
    let n = 0;
    clock.onSleep = () => {
      if (n++ < 2) last = clock.t - 200;
    };
    await quiesce(clock, { minMs: 1000, maxMs: 10_000 }, 0, () => last);
    expect(clock.t).toBe(2600); // 1000 → change at 800 → 1800 → change at 1600 → 2600
  });

  it('never waits past max after the first change', async () => {
    const clock = new FakeClock();
    let last = 0;
    clock.onSleep = () => {
      last = clock.t; // changes keep coming
    };
    await quiesce(clock, { minMs: 1000, maxMs: 3500 }, 0, () => last);
    expect(clock.t).toBe(3500);
  });
});
