import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';
import { KibokoError } from './errors.js';

function parseError(input: string): KibokoError {
  try {
    parseDuration(input);
  } catch (err) {
    expect(err).toBeInstanceOf(KibokoError);
    return err as KibokoError;
  }
  throw new Error(`parseDuration('${input}') did not throw`);
}

describe('parseDuration', () => {
  it.each([
    ['300ms', 300],
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['2h45m', 2 * 3_600_000 + 45 * 60_000],
    ['.5s', 500],
    ['1500us', 2], // 1.5 ms rounds to whole ms
    ['0', 0],
    [' 10s ', 10_000],
  ])('parses %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it('rejects a number without a unit and hints at the unit', () => {
    const e = parseError('10');
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('missing unit');
    expect(e.hint).toContain('10s');
  });

  it.each(['', '   ', 'abc', '5x', '10s5', 's', '1h-5m'])('rejects %j', (input) => {
    const e = parseError(input);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.hint).toBeTruthy();
  });

  it('names the flag in the message', () => {
    expect(() => parseDuration('5x', '--interval')).toThrow(/--interval/);
  });

  it('rejects more than a year', () => {
    expect(() => parseDuration('9000h')).toThrow(/too large/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [250, '250ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [3_661_001, '1h1m1.001s'],
  ])('formats %d as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration for whole milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 * 24 * 3_600_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
      { numRuns: 2000 },
    );
  });
});
