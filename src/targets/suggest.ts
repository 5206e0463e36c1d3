import { compareNames } from '../common/collate.js';

/**
 * Container names close to what the user typed, for the warning a run that hit nothing prints
 * (`web-9` → `web-1, web-2`). Close means: one contains the other, or at most two edits apart
 * (a third of the length for long names); only the nearest of those. Best first, at most `max`.
 */
export function closeNames(wanted: readonly string[], names: readonly string[], max = 5): string[] {
  const scored = new Map<string, number>();
  for (const w of wanted.map((x) => x.replace(/^\//, '')).filter(Boolean)) {
    const allowed = Math.max(2, Math.floor(w.length / 3));
    for (const n of names) {
      if (n === w) continue;
      const d = n.includes(w) || w.includes(n) ? 0.5 : editDistance(w, n, allowed);
      if (d <= allowed) scored.set(n, Math.min(scored.get(n) ?? Infinity, d));
    }
  }
  const ranked = [...scored].sort((a, b) => a[1] - b[1] || compareNames(a[0], b[0]));
  // Only the nearest: `web-9` suggests web-1 and web-2 (one edit), not api-1 (three) as well.
  const best = ranked[0]?.[1] ?? 0;
  return ranked.filter(([, d]) => d <= best + 1).slice(0, max).map(([n]) => n);
}

/** Levenshtein distance, giving up (returning bound + 1) once it must exceed `bound`. */
function editDistance(a: string, b: string, bound: number): number {
  if (Math.abs(a.length - b.length) > bound) return bound + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]!);
    }
    if (rowMin > bound) return bound + 1;
    prev = cur;
  }
  return prev[b.length]!;
}
