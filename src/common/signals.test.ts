import { describe, expect, it } from 'vitest';
import { KibokoError } from './errors.js';
import { parseSignal, signalNumber } from './signals.js';

describe('parseSignal', () => {
  it.each([
    ['SIGTERM', 'SIGTERM'],
    ['term', 'SIGTERM'],
    ['Term', 'SIGTERM'],
    ['15', 'SIGTERM'],
    ['9', 'SIGKILL'],
    ['sigkill', 'SIGKILL'],
    ['6', 'SIGABRT'],
    ['SIGRTMIN', '34'],
    ['SIGRTMIN+3', '37'],
    ['RTMAX-1', '63'],
    ['40', '40'],
  ])('accepts %j as %s', (input, name) => {
    expect(parseSignal(input)).toBe(name);
  });

  it.each(['SIGFOO', '0', '99', '', 'SIGRTMIN+40', 'SIGRTMAX+1', '-9'])('rejects %j with INVALID_ARGUMENT', (input) => {
    let caught: unknown;
    try {
      parseSignal(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(KibokoError);
    expect((caught as KibokoError).code).toBe('INVALID_ARGUMENT');
    expect((caught as KibokoError).message).toContain(`'${input}'`);
    expect((caught as KibokoError).hint).toBeTruthy();
  });

  it('gives canonical names that signalNumber maps back', () => {
    for (const input of ['term', '15', 'SIGRTMIN+3', 'hup']) {
      const name = parseSignal(input);
      expect(signalNumber(name)).toBeGreaterThan(0);
    }
    expect(signalNumber(parseSignal('15'))).toBe(15);
  });
});
