/**
 * `compareNames(a, b)` is `a.localeCompare(b)` — the same -1, 0 or 1 for every pair — without
 * starting ICU's collator for the names kiboko sorts on its short commands' paths (services,
 * containers, IDs). The collator's first use costs 8-18 ms of a command's start.
 *
 * The fast path: both strings made only of `_ - : . /`, digits and lowercase ASCII letters, under
 * a default locale whose collation is the Unicode root order for them. There every character has
 * its own primary weight, none ignorable, no contraction or expansion, so the order is the
 * character-by-character order of the weights (`_ - : . /` < `0`-`9` < `a`-`z`), a prefix first.
 * `collate.test.ts` checks it against `localeCompare` on random strings and in child processes
 * under several locales. Anything else is `localeCompare`'s to answer.
 *
 * The default locale: ICU reads it on Linux from `LC_ALL`, `LC_MESSAGES` and `LANG`, once at start
 * (a later change to `process.env` does not move it). Some locales tailor these letters (Danish
 * sorts `aa` after `z`, Lithuanian `y` before `j`, Czech `ch` after `h`), so the fast path is taken
 * only when each of the three is unset, empty, `C`, `POSIX` or English (`en`, `en_XX`, with an
 * optional `.charset`), all of which sort as root. Elsewhere (other platforms, other locales, no
 * ICU), every comparison goes to `localeCompare`.
 */

/** In root collation order (checked by the test). */
const ORDER = '_-:./0123456789abcdefghijklmnopqrstuvwxyz';
const RANK = new Int8Array(128).fill(-1);
for (let i = 0; i < ORDER.length; i++) RANK[ORDER.charCodeAt(i)] = i;

const ROOT_ORDER_LOCALE = /^(?:C|POSIX|en(?:_[A-Z]{2})?)(?:\.[A-Za-z0-9-]+)?$/;
const LOCALE_VARS = ['LC_ALL', 'LC_MESSAGES', 'LANG'] as const;

/** True when the locale these variables give ICU sorts the fast path's characters as root does. */
export function envHasRootOrder(env: NodeJS.ProcessEnv): boolean {
  return LOCALE_VARS.every((k) => {
    const v = env[k];
    return v === undefined || v === '' || ROOT_ORDER_LOCALE.test(v);
  });
}

let rootOrder: boolean | undefined;

function defaultLocaleHasRootOrder(): boolean {
  rootOrder ??= process.platform === 'linux' && typeof process.versions.icu === 'string' && envHasRootOrder(process.env);
  return rootOrder;
}

function inAlphabet(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || RANK[c]! < 0) return false;
  }
  return true;
}

/** Root collation's order of two strings of the fast path's characters; undefined if either has another. */
export function compareRootOrder(a: string, b: string): -1 | 0 | 1 | undefined {
  if (!inAlphabet(a) || !inAlphabet(b)) return undefined;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = RANK[a.charCodeAt(i)]! - RANK[b.charCodeAt(i)]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Exactly `a.localeCompare(b)`, without ICU where it can be proved the same (see above). */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  if (defaultLocaleHasRootOrder()) {
    const r = compareRootOrder(a, b);
    if (r !== undefined) return r;
  }
  return a.localeCompare(b);
}
