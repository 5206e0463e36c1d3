import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { thrown } from '../../test/expect-error.js';
import { parseLabelFilters, parseTargetArgs, selectsEverything } from './query.js';


describe('parseTargetArgs', () => {
  it('keeps names and strips a leading slash', () => {
    const q = parseTargetArgs(['web-1', '/db', '  cache  ', '']);
    expect(q.names).toEqual(['web-1', 'db', 'cache']);
    expect(q.patterns).toEqual([]);
    expect(q.labels).toEqual([]);
    expect(selectsEverything(q)).toBe(false);
  });

  it('compiles re2: patterns, unanchored', () => {
    const q = parseTargetArgs(['re2:^web-\\d+$', 're2:db']);
    expect(q.names).toEqual([]);
    expect(q.patterns.map((p) => p.source)).toEqual(['^web-\\d+$', 'db']);
    expect(q.patterns[0]!.regex.matcher('web-12').find()).toBe(true);
    expect(q.patterns[0]!.regex.matcher('web-x').find()).toBe(false);
    expect(q.patterns[1]!.regex.matcher('my-db-1').find()).toBe(true);
  });

  it('selects everything when nothing is named', () => {
    expect(selectsEverything(parseTargetArgs([]))).toBe(true);
    expect(selectsEverything(parseTargetArgs(['', ' ']))).toBe(true);
  });

  it('parses the label values alongside', () => {
    expect(parseTargetArgs(['x'], ['a=1', 'b']).labels).toEqual(['a=1', 'b']);
  });

  it('rejects an empty re2: pattern', () => {
    const e = thrown(() => parseTargetArgs(['re2:']));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('empty pattern');
  });

  it.each([
    ['re2:(web', 'missing closing )'],
    ['re2:[a', 'missing closing ]'],
    ['re2:*a', 'missing argument to repetition operator'],
    ['re2:(?<=a)b', 'invalid named capture'],
  ])('rejects %s with the RE2 reason', (arg, reason) => {
    const e = thrown(() => parseTargetArgs([arg]));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain(arg);
    expect(e.message).toContain(reason);
    expect(e.hint).toContain('RE2');
  });

  it('rejects backreferences (not RE2)', () => {
    expect(() => parseTargetArgs(['re2:(a)\\1'])).toThrow(KibokoError);
  });

  it('has no catastrophic backtracking', () => {
    const q = parseTargetArgs(['re2:(a+)+$', 're2:(a|aa)*c']);
    const name = `${'a'.repeat(5000)}b`;
    const started = performance.now();
    const results = q.patterns.map((p) => p.regex.matcher(name).find());
    const elapsed = performance.now() - started;
    expect(results).toEqual([false, false]);
    expect(elapsed).toBeLessThan(1000);
  });

  it('never throws anything but a KibokoError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          const q = parseTargetArgs([`re2:${s}`]);
          expect(q.patterns.length + q.names.length).toBeLessThanOrEqual(1);
        } catch (err) {
          expect(err).toBeInstanceOf(KibokoError);
          expect((err as KibokoError).code).toBe('INVALID_ARGUMENT');
        }
      }),
    );
  });

  it('matches literal names exactly when the pattern is quoted', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/), (name) => {
        const quoted = name.replace(/[.\\+*?()|[\]{}^$]/g, '\\$&');
        const q = parseTargetArgs([`re2:^${quoted}$`]);
        expect(q.patterns[0]!.regex.matcher(name).find()).toBe(true);
        expect(q.patterns[0]!.regex.matcher(`${name}x`).find()).toBe(false);
      }),
    );
  });
});

describe('parseLabelFilters', () => {
  it('keeps key=value and bare keys', () => {
    expect(parseLabelFilters(['env=prod', 'tier'])).toEqual(['env=prod', 'tier']);
  });

  it('splits comma-separated values', () => {
    expect(parseLabelFilters(['a=1,b=2', 'c=3'])).toEqual(['a=1', 'b=2', 'c=3']);
  });

  it('keeps values with = and dotted/slashed keys', () => {
    expect(parseLabelFilters(['com.example/app=a=b'])).toEqual(['com.example/app=a=b']);
  });

  it.each(['=v', '-x=1', 'a b=1', 'a,,b', ''])('rejects %j', (value) => {
    const e = thrown(() => parseLabelFilters([value]));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.hint).toContain('--label');
  });

  it('names the bad key', () => {
    expect(() => parseLabelFilters(['ok=1,$bad=2'])).toThrow(/bad key '\$bad'/);
  });
});
