import { describe, expect, it } from 'vitest';
import { closeNames } from './suggest.js';

describe('closeNames', () => {
  const names = ['web-1', 'web-2', 'api-1', 'shop-web-1-8672227f', 'db'];
  it('finds names a typo away, best first', () => {
    expect(closeNames(['web-9'], names)).toEqual(['web-1', 'web-2']);
    expect(closeNames(['wbe-1'], names)).toEqual(['web-1']);
  });
  it('finds names that contain what was typed', () => {
    expect(closeNames(['shop-web'], names)).toEqual(['shop-web-1-8672227f']);
  });
  it('finds nothing for an unrelated name, and never the name itself', () => {
    expect(closeNames(['postgres'], names)).toEqual([]);
    expect(closeNames(['web-1'], ['web-1'])).toEqual([]);
  });
  it('keeps at most max', () => {
    expect(closeNames(['n'], ['n1', 'n2', 'n3'], 2)).toEqual(['n1', 'n2']);
  });
});

describe('closeNames keeps only the nearest', () => {
  it('web-9 suggests web-1 and web-2, not api-1', () => {
    expect(closeNames(['kt-x-web-9'], ['kt-x-web-1', 'kt-x-web-2', 'kt-x-api-1', 'kt-x-web-front'])).toEqual(['kt-x-web-1', 'kt-x-web-2']);
  });
});
