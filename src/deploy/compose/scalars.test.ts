import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Context } from './context.js';
import { Problems } from './problems.js';
import { int, oneOf, schemas } from './scalars.js';
import type { ScalarNode } from './yaml.js';

const node = (value: ScalarNode['value']): ScalarNode => ({ kind: 'scalar', value, loc: { file: 'f', line: 1, path: 'p' } });
const context = (): Context => ({
  problems: new Problems(),
  projectDir: '/',
  lookup: () => undefined,
  readFile: () => undefined,
  display: (a) => a,
  home: '/',
  sources: [],
  networks: new Set(),
  volumes: new Set(),
  secrets: new Set(),
  configs: new Set(),
  services: new Set(),
});

/** What the zod schema alone says of a value in [min, max]: the number, or undefined (a problem). */
const bySchema = (v: unknown, min: number, max: number) => {
  const r = schemas().integer.safeParse(v);
  return r.success && r.data >= min && r.data <= max ? r.data : undefined;
};

describe('int: numbers written as numbers are taken without the schema, with the same result', () => {
  it('agrees with the integer schema on any number and range', () => {
    const value = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER, -0, Infinity, NaN));
    fc.assert(
      fc.property(value, fc.integer({ min: -10, max: 0 }), fc.integer({ min: 0, max: 1000 }), (v, min, max) => {
        const ctx = context();
        const got = int(node(v), ctx, min, max, 'a count', 'docs');
        expect(got).toBe(bySchema(v, min, max));
        expect(ctx.problems.empty).toBe(got !== undefined);
      }),
    );
  });

  it('reads strings through the schema as before', () => {
    const ctx = context();
    expect(int(node(' 3 '), ctx, 0, 10, 'a count', 'docs')).toBe(3);
    expect(int(node('3.5'), ctx, 0, 10, 'a count', 'docs')).toBeUndefined();
    expect(ctx.problems.empty).toBe(false);
  });
});

describe('oneOf', () => {
  it('takes a listed value as it is and refuses anything else, naming the choices', () => {
    const ctx = context();
    expect(oneOf(node('start-first'), ctx, ['stop-first', 'start-first'], 'docs')).toBe('start-first');
    expect(ctx.problems.empty).toBe(true);
    for (const v of ['Start-first', '', 1, true, null]) expect(oneOf(node(v), ctx, ['stop-first', 'start-first'], 'docs')).toBeUndefined();
    expect(ctx.problems.toError().message).toMatch(/expected stop-first or start-first, got "Start-first"/);
  });
});
