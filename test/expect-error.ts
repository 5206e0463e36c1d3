import { expect } from 'vitest';
import { KibokoError } from '../src/common/errors.js';

/** Runs `fn`, asserts it throws a KibokoError with the given code, and returns the error. */
export function thrown(fn: () => unknown, code = 'INVALID_ARGUMENT'): KibokoError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KibokoError);
    expect((err as KibokoError).code).toBe(code);
    return err as KibokoError;
  }
  throw new Error('expected a throw');
}
