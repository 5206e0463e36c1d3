/** Go's package path (slash-separated paths): Clean, Base, Dir and Match, as confd uses them. */
import { GoError } from './errors.js';

/** path.Clean. */
export function pathClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** path.Base: the last element; "." for "", "/" for only slashes. */
export function pathBase(p: string): string {
  if (p === '') return '.';
  while (p.length > 0 && p[p.length - 1] === '/') p = p.slice(0, -1);
  const i = p.lastIndexOf('/');
  if (i >= 0) p = p.slice(i + 1);
  return p === '' ? '/' : p;
}

/** path.Dir: all but the last element, cleaned. */
export function pathDir(p: string): string {
  const i = p.lastIndexOf('/');
  return pathClean(p.slice(0, i + 1));
}

const BAD_PATTERN = 'syntax error in pattern';

function scanChunk(pattern: number[]): { star: boolean; chunk: number[]; rest: number[] } {
  let star = false;
  while (pattern.length > 0 && pattern[0] === 0x2a) {
    pattern = pattern.slice(1);
    star = true;
  }
  let inrange = false;
  let i = 0;
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case 0x5c:
        if (i + 1 < pattern.length) i++;
        break;
      case 0x5b:
        inrange = true;
        break;
      case 0x5d:
        inrange = false;
        break;
      case 0x2a:
        if (!inrange) break scan;
        break;
    }
  }
  return { star, chunk: pattern.slice(0, i), rest: pattern.slice(i) };
}

function getEsc(chunk: number[]): { r: number; chunk: number[] } {
  if (chunk.length === 0 || chunk[0] === 0x2d || chunk[0] === 0x5d) throw new GoError(BAD_PATTERN);
  if (chunk[0] === 0x5c) {
    chunk = chunk.slice(1);
    if (chunk.length === 0) throw new GoError(BAD_PATTERN);
  }
  const r = chunk[0]!;
  const rest = chunk.slice(1);
  if (rest.length === 0) throw new GoError(BAD_PATTERN);
  return { r, chunk: rest };
}

function matchChunk(chunk: number[], s: number[]): { rest: number[]; ok: boolean } {
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0]!;
    if (c === 0x5b) {
      let r = -1;
      if (!failed) {
        r = s[0]!;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk.length > 0 && chunk[0] === 0x5e) {
        negated = true;
        chunk = chunk.slice(1);
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === 0x5d && nrange > 0) {
          chunk = chunk.slice(1);
          break;
        }
        const lo = getEsc(chunk);
        chunk = lo.chunk;
        let hi = lo.r;
        if (chunk[0] === 0x2d) {
          const h = getEsc(chunk.slice(1));
          hi = h.r;
          chunk = h.chunk;
        }
        if (lo.r <= r && r <= hi) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (c === 0x3f) {
      if (!failed) {
        if (s[0] === 0x2f) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    } else {
      if (c === 0x5c) {
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw new GoError(BAD_PATTERN);
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    }
  }
  if (failed) return { rest: [], ok: false };
  return { rest: s, ok: true };
}

const cps = (s: string): number[] => Array.from(s, (ch) => ch.codePointAt(0)!);

/** path.Match: shell pattern matching where * and ? never match '/'. Throws "syntax error in pattern". */
export function pathMatch(patternStr: string, nameStr: string): boolean {
  let pattern = cps(patternStr);
  let name = cps(nameStr);
  outer: while (pattern.length > 0) {
    const sc = scanChunk(pattern);
    const { star, chunk } = sc;
    pattern = sc.rest;
    if (star && chunk.length === 0) return !name.includes(0x2f);
    const m = matchChunk(chunk, name);
    if (m.ok && (m.rest.length === 0 || pattern.length > 0)) {
      name = m.rest;
      continue;
    }
    if (star) {
      for (let i = 0; i < name.length && name[i] !== 0x2f; i++) {
        const m2 = matchChunk(chunk, name.slice(i + 1));
        if (m2.ok) {
          if (pattern.length === 0 && m2.rest.length > 0) continue;
          name = m2.rest;
          continue outer;
        }
      }
    }
    while (pattern.length > 0) {
      const sc2 = scanChunk(pattern);
      pattern = sc2.rest;
      matchChunk(sc2.chunk, []);
    }
    return false;
  }
  return name.length === 0;
}
