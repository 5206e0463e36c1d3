import { describe, expect, it } from 'vitest';
import { globMatch } from './glob.js';

describe('globMatch (Go path.Match)', () => {
  it('matches *, ?, classes and escapes within one path segment', () => {
    expect(globMatch('*toml', 'app.toml')).toBe(true);
    expect(globMatch('*toml', 'app.toml.bak')).toBe(false);
    expect(globMatch('*.y?ml', 'a.yaml')).toBe(true);
    expect(globMatch('[ab].json', 'b.json')).toBe(true);
    expect(globMatch('app@[^0-9].service', 'app@7.service')).toBe(false);
    expect(globMatch('a\\*b', 'a*b')).toBe(true);
    expect(globMatch('*', 'a/b')).toBe(false);
  });

  it('a bad pattern matches nothing', () => {
    expect(globMatch('a[', 'a[')).toBe(false);
    expect(globMatch('a\\', 'a\\')).toBe(false);
    expect(globMatch('[]', '')).toBe(false);
  });
});
