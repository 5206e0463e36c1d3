import { describe, expect, it } from 'vitest';
import { thrown } from '../../test/expect-error.js';
import { parsePairs } from './packages-build.js';

describe('parsePairs', () => {
  it('reads KEY=value pairs, values may hold = and be empty', () => {
    expect(parsePairs(['A=1', 'B=x=y', 'C='], '--label', undefined)).toEqual({ A: '1', B: 'x=y', C: '' });
  });

  it('takes a bare KEY from the environment for --build-arg (left out when unset), as docker does', () => {
    expect(parsePairs(['HTTP_PROXY', 'MISSING'], '--build-arg', { HTTP_PROXY: 'http://p' })).toEqual({ HTTP_PROXY: 'http://p' });
    expect(thrown(() => parsePairs(['A'], '--label', undefined)).message).toMatch(/expected key=value/);
    expect(thrown(() => parsePairs(['=1'], '--build-arg', {})).message).toMatch(/expected KEY=value/);
  });
});
