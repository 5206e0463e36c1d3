import { describe, expect, it } from 'vitest';
import { commandCheck } from './checks.js';

describe('commandCheck', () => {
  const c = { ok: 'works', hint: 'install it', neededFor: 'faults' };
  it('is ok with the ok detail and no hint when the command exited 0', () => {
    expect(commandCheck('x', { code: 0, stdout: 'v1\n', stderr: '' }, c)).toEqual({ name: 'x', status: 'ok', detail: 'works', hint: undefined, needed_for: 'faults' });
  });
  it('otherwise is missing (or the given status), with what the command printed or the given detail, and the hint', () => {
    expect(commandCheck('x', { code: 1, stdout: 'out', stderr: ' no such module \n' }, c)).toEqual({ name: 'x', status: 'missing', detail: 'no such module', hint: 'install it', needed_for: 'faults' });
    expect(commandCheck('x', { code: 1, stdout: ' out ', stderr: '' }, c).detail).toBe('out');
    expect(commandCheck('x', { code: null, stdout: '', stderr: 'gone' }, { ...c, failed: 'not found', status: 'warn' })).toEqual({ name: 'x', status: 'warn', detail: 'not found', hint: 'install it', needed_for: 'faults' });
  });
});
