import { describe, expect, it } from 'vitest';
import { effectivePrefix, goClean, goJoin, prefixedKeys, snapshotFor } from './keys.js';

describe('Go path semantics', () => {
  it.each([
    ['', '.'],
    ['/', '/'],
    ['a/b/', 'a/b'],
    ['//a//b/./c/..', '/a/b'],
    ['../a', '../a'],
    ['/../a', '/a'],
    ['a/../..', '..'],
  ])('Clean(%j) = %j', (input, out) => expect(goClean(input)).toBe(out));

  it('Join ignores empty parts and cleans', () => {
    expect(goJoin('/app', 'db/')).toBe('/app/db');
    expect(goJoin('/', '/x')).toBe('/x');
    expect(goJoin('', '')).toBe('');
    expect(goJoin('/prefix', '/')).toBe('/prefix');
  });
});

describe('prefixes and the template store (confd setVars)', () => {
  it('a global prefix replaces the resource prefix; a leading / is added', () => {
    expect(effectivePrefix('myapp', undefined)).toBe('/myapp');
    expect(effectivePrefix('/myapp', '/production')).toBe('/production');
    expect(effectivePrefix(undefined, undefined)).toBe('/');
  });

  it('keys are joined onto the prefix', () => {
    expect(prefixedKeys('/production', ['/nginx', 'app/db'])).toEqual(['/production/nginx', '/production/app/db']);
    expect(prefixedKeys('/', ['/'])).toEqual(['/']);
  });

  it('the store holds keys relative to the prefix', () => {
    const s = snapshotFor('/production', new Map([['/production/nginx/port', '80'], ['/production/app/db', 'pg']]));
    expect(s.list()).toEqual(['/app/db', '/nginx/port']);
    expect(s.get('/nginx/port')).toBe('80');
    expect(s.get('/production/nginx/port')).toBeUndefined();
  });

  it('keeps confd quirks: a string-prefix match is trimmed as a string', () => {
    const s = snapshotFor('/app', new Map([['/apple/x', '1']]));
    expect(s.list()).toEqual(['/le/x']);
  });
});
