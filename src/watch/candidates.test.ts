import { describe, expect, it } from 'vitest';
import { newerTag } from './candidates.js';

describe('newerTag', () => {
  const tags = ['9-develop', '58-develop', '100-develop', '99-main', 'latest', '1.2.3', '1.10.0', '2.0.0', '2.1.0-rc.1', 'v3'];
  it('follows a branch by build number, never lexically', () => {
    expect(newerTag({ kind: 'follow-branch', branch: 'develop' }, '58-develop', tags)).toBe('100-develop');
    expect(newerTag({ kind: 'follow-branch', branch: 'develop' }, '100-develop', tags)).toBeUndefined();
    expect(newerTag({ kind: 'follow-branch', branch: 'main' }, '99-main', tags)).toBeUndefined();
  });
  it('semver, semver-major-locked, regex and pinned', () => {
    expect(newerTag({ kind: 'semver' }, '1.2.3', tags)).toBe('2.0.0');
    expect(newerTag({ kind: 'semver', lock: 'major' }, '1.2.3', tags)).toBe('1.10.0');
    expect(newerTag({ kind: 'semver' }, '2.1.0-rc.0', tags)).toBe('2.1.0-rc.1');
    expect(newerTag({ kind: 'regex', pattern: '^[0-9]+-develop$' }, '58-develop', tags)).toBe('100-develop');
    expect(newerTag({ kind: 'pinned' }, 'latest', tags)).toBeUndefined();
  });
});
