import { describe, expect, it } from 'vitest';
import { thrown } from '../../test/expect-error.js';
import { connectionFlags, parseBoolFlag, parseConcurrency, parseDurationFlag, parseHistoryLimit, parseLimit, parseSeconds, parseSeed } from './options.js';


// Regression: `deploy history --limit x` reached SQLite as NaN and was reported as a bug ("internal error: datatype mismatch").
describe('parseHistoryLimit (deploy history --limit)', () => {
  it('defaults to 20 and accepts a whole number from 1', () => {
    expect(parseHistoryLimit(undefined)).toBe(20);
    expect(parseHistoryLimit('3')).toBe(3);
  });

  it.each(['x', '0', '-1', '1.5', ''])('rejects %j as a usage error', (v) => {
    const e = thrown(() => parseHistoryLimit(v));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain(`invalid --limit '${v}'`);
  });
});

describe('parseLimit', () => {
  it('defaults to 0 (all) and accepts whole numbers', () => {
    expect(parseLimit(undefined)).toBe(0);
    expect(parseLimit('3')).toBe(3);
    expect(parseLimit(0)).toBe(0);
  });

  it.each(['abc', '-1', '1.5', 'NaN'])('rejects %j with an "expected" message', (v) => {
    const e = thrown(() => parseLimit(v));
    expect(e.message).toContain(`invalid --limit '${v}'`);
    expect(e.message).toContain('expected');
    expect(e.hint).toContain('--limit');
  });

  // Regression: zod's coerce turned '' (and '  ') into 0, so `--limit ''` silently meant "all targets".
  it('rejects an empty --limit', () => {
    thrown(() => parseLimit(''));
  });
});

describe('parseSeed and parseConcurrency', () => {
  it('accepts valid values', () => {
    expect(parseSeed('42')).toBe(42);
    expect(parseSeed(String(0xffffffff))).toBe(0xffffffff);
    expect(parseConcurrency('8')).toBe(8);
  });

  it('rejects out-of-range values', () => {
    expect(thrown(() => parseSeed(String(2 ** 32))).message).toContain('expected');
    expect(thrown(() => parseSeed('-1')).message).toContain('expected');
    expect(thrown(() => parseConcurrency('0')).message).toContain('≥ 1');
    expect(thrown(() => parseConcurrency('x')).message).toContain('expected');
  });
});

describe('parseSeconds', () => {
  it('takes whole seconds or a duration rounded up', () => {
    expect(parseSeconds(undefined, '--time', 5)).toBe(5);
    expect(parseSeconds('10', '--time', 5)).toBe(10);
    expect(parseSeconds('1s', '--timeout', 1)).toBe(1);
    expect(parseSeconds('1500ms', '--timeout', 1)).toBe(2);
    expect(parseSeconds('2m', '--timeout', 1)).toBe(120);
  });

  it('rejects garbage, naming the flag', () => {
    expect(thrown(() => parseSeconds('soon', '--time', 5)).message).toContain('--time');
  });
});

describe('parseDurationFlag', () => {
  it('is optional unless required', () => {
    expect(parseDurationFlag(undefined, '--interval')).toBeUndefined();
    expect(parseDurationFlag('', '--interval')).toBeUndefined();
    expect(parseDurationFlag('30s', '--interval')).toBe(30_000);
    expect(parseDurationFlag('0', '--interval')).toBe(0);
  });

  it('a required duration must be given and positive', () => {
    expect(thrown(() => parseDurationFlag(undefined, '--duration', true)).message).toContain('unset or invalid duration');
    expect(thrown(() => parseDurationFlag('0', '--duration', true)).message).toContain('longer than 0');
    expect(thrown(() => parseDurationFlag('10', '--duration', true)).hint).toContain('10s');
    expect(parseDurationFlag('10s', '--duration', true)).toBe(10_000);
  });
});

describe('parseBoolFlag', () => {
  it.each([
    [undefined, true, true],
    [undefined, false, false],
    [true, false, true],
    [false, true, false],
    ['false', true, false],
    ['FALSE', true, false],
    ['0', true, false],
    ['no', true, false],
    ['true', false, true],
    ['1', false, true],
    ['yes', false, true],
  ])('%j (fallback %j) → %j', (value, fallback, expected) => {
    expect(parseBoolFlag(value, '--force', fallback)).toBe(expected);
  });

  it('rejects anything else', () => {
    const e = thrown(() => parseBoolFlag('maybe', '--force', true));
    expect(e.message).toContain('expected true or false');
  });
});

describe('connectionFlags', () => {
  it('keeps only string/boolean connection options', () => {
    expect(connectionFlags({ host: 'tcp://h:2375', tls: true, tlsverify: 'yes', tlscacert: 'ca', other: 1 })).toEqual({
      host: 'tcp://h:2375',
      tls: true,
      tlsverify: undefined,
      tlscacert: 'ca',
      tlscert: undefined,
      tlskey: undefined,
    });
  });
});
