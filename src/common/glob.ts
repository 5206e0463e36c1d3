/**
 * Go's `path.Match` (and `filepath.Match` on a base name): `*`, `?`, `[a-z]`, `[^x]`, `\` escapes;
 * a bad pattern matches nothing. The one glob of kiboko: fleet's Conflicts globs (units) and
 * confd's template resource file patterns (template).
 */
export function globMatch(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      if (i + 1 >= pattern.length) return false;
      re += escapeRe(pattern[++i]!);
    } else if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (pattern[j] === '^') {
        cls += '^';
        j++;
      }
      for (; j < pattern.length && pattern[j] !== ']'; j++) {
        let ch = pattern[j]!;
        if (ch === '\\') {
          if (j + 1 >= pattern.length) return false;
          ch = pattern[++j]!;
        }
        cls += ch === '-' && pattern[j - 1] !== '\\' ? '-' : escapeRe(ch);
      }
      if (j >= pattern.length || cls === '' || cls === '^') return false;
      re += `[${cls}]`;
      i = j;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(`${re}$`, 's').test(name);
  } catch {
    return false;
  }
}

const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
