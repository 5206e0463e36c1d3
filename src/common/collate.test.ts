import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareNames, compareRootOrder, envHasRootOrder } from './collate.js';

const FAST = '_-:./0123456789abcdefghijklmnopqrstuvwxyz'.split('');
/** Characters next to the fast path's: the fallback must answer for them, and answer as localeCompare. */
const NEAR = [
  'A', 'B', 'Z', ' ', ',', ';', '!', '?', "'", '"', '@', '*', '\\', '&', '#', '%', '`', '^', '+', '<', '=', '>', '|', '~', '$', '(', ')', '[', ']', '{', '}',
  '\t', '\u0000', '\u007f', 'é', 'e\u0301', '\u0301', 'å', 'ß', 'ı', 'ﬁ', 'Ⅸ', '١', '😀', '\ud800',
];

const fastString = fc.string({ unit: fc.constantFrom(...FAST), maxLength: 12 });
const nearString = fc.string({ unit: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...FAST) }, { weight: 1, arbitrary: fc.constantFrom(...NEAR) }), maxLength: 12 });
/** Two strings that share a prefix, so the comparison reaches their later characters (or one is a prefix of the other). */
const pair = (s: fc.Arbitrary<string>) =>
  fc.oneof(
    fc.tuple(s, s),
    fc.tuple(s, s, s).map(([p, a, b]) => [p + a, p + b] as [string, string]),
    fc.tuple(s, s).map(([p, a]) => [p, p + a] as [string, string]),
  );

const sign = (n: number) => Math.sign(n);

describe('compareNames', () => {
  it('orders the fast path characters as root collation does (the table)', () => {
    const sorted = [...FAST].sort((a, b) => a.localeCompare(b, 'en'));
    expect(sorted.join('')).toBe(FAST.join(''));
  });

  it('gives localeCompare’s answer on random strings of the fast path’s characters', () => {
    fc.assert(
      fc.property(pair(fastString), ([a, b]) => {
        const fast = compareRootOrder(a, b);
        expect(fast).toBeDefined();
        expect(fast).toBe(sign(a.localeCompare(b, 'en')));
        expect(compareNames(a, b)).toBe(a.localeCompare(b));
      }),
      { numRuns: 20_000 },
    );
  });

  it('gives localeCompare’s answer on near misses (uppercase, other punctuation, non-ASCII, empty, prefixes)', () => {
    fc.assert(
      fc.property(pair(nearString), ([a, b]) => {
        expect(compareNames(a, b)).toBe(a.localeCompare(b));
        expect(compareNames(b, a)).toBe(b.localeCompare(a));
      }),
      { numRuns: 20_000 },
    );
    for (const [a, b] of [['', ''], ['', 'a'], ['a', ''], ['a', 'A'], ['web-1', 'Web-1'], ['web_1', 'web-1'], ['web.1', 'web-1'], ['a b', 'a-b'], ['aa', 'z'], ['é', 'f'], ['e\u0301', 'é']] as const) {
      expect(compareNames(a, b), `${a} / ${b}`).toBe(a.localeCompare(b));
    }
  });

  it('takes the fast path only for its own characters', () => {
    expect(compareRootOrder('web-1', 'web_2')).toBe(1);
    expect(compareRootOrder('web-1', 'Web-1')).toBeUndefined();
    expect(compareRootOrder('wéb', 'web')).toBeUndefined();
    expect(compareRootOrder('a b', 'a')).toBeUndefined();
  });
});

describe('envHasRootOrder', () => {
  it('accepts unset, C, POSIX and English locales, and nothing else', () => {
    expect(envHasRootOrder({})).toBe(true);
    expect(envHasRootOrder({ LANG: 'C.UTF-8' })).toBe(true);
    expect(envHasRootOrder({ LANG: 'en_US.UTF-8', LC_ALL: '' })).toBe(true);
    expect(envHasRootOrder({ LANG: 'POSIX', LC_MESSAGES: 'en_GB.utf8' })).toBe(true);
    expect(envHasRootOrder({ LANG: 'da_DK.UTF-8' })).toBe(false);
    expect(envHasRootOrder({ LANG: 'en_US.UTF-8', LC_ALL: 'lt_LT.UTF-8' })).toBe(false);
    expect(envHasRootOrder({ LANG: 'en_US.UTF-8', LC_MESSAGES: 'cs_CZ.UTF-8' })).toBe(false);
    expect(envHasRootOrder({ LANG: 'en_US@euro' })).toBe(false);
    expect(envHasRootOrder({ LANG: 'sr_RS@latin' })).toBe(false);
  });

  // What node's localeCompare does under each environment, asked of a child process: where
  // envHasRootOrder says yes, the child's order of names is the fast path's; the tailored
  // locales show why the check is needed.
  const CORPUS = ['aa', 'z', 'y', 'j', 'i', 'ch', 'cs', 'c', 'h', 'd', 'dz', 'dzs', 'll', 'l', 'ij', 'v', 'w', 'ng', 'o', 'oe', 'th', 'web-1', 'web_1', 'web.1', 'web:1', 'web/1', 'web10', 'web9', 'a-b', 'ab', '0', '9', '_', '-', '.'];
  const run = promisify(execFile);
  const ENVS: Array<{ env: Record<string, string>; root: boolean }> = [
    { env: {}, root: true },
    { env: { LANG: 'C' }, root: true },
    { env: { LANG: 'C.UTF-8' }, root: true },
    { env: { LANG: 'POSIX' }, root: true },
    { env: { LANG: 'en_US.UTF-8' }, root: true },
    { env: { LANG: 'en_DK.UTF-8' }, root: true },
    { env: { LANG: 'en_GB.UTF-8', LC_MESSAGES: 'en_IN' }, root: true },
    { env: { LANG: 'da_DK.UTF-8' }, root: false },
    { env: { LANG: 'en_US.UTF-8', LC_ALL: 'lt_LT.UTF-8' }, root: false },
    { env: { LANG: 'en_US.UTF-8', LC_MESSAGES: 'cs_CZ.UTF-8' }, root: false },
  ];
  it.runIf(process.platform === 'linux')('agrees with node’s localeCompare in child processes under several locales', async () => {
    const fastOrder = [...CORPUS].sort((a, b) => compareRootOrder(a, b)!);
    const script = `process.stdout.write(JSON.stringify(${JSON.stringify(CORPUS)}.sort((a, b) => a.localeCompare(b))))`;
    const results = await Promise.all(ENVS.map(({ env }) => run(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '', ...env } })));
    ENVS.forEach(({ env, root }, i) => {
      const order = JSON.parse(results[i]!.stdout) as string[];
      expect(envHasRootOrder(env), JSON.stringify(env)).toBe(root);
      if (root) expect(order, JSON.stringify(env)).toEqual(fastOrder);
      else expect(order, JSON.stringify(env)).not.toEqual(fastOrder);
    });
  });
});
