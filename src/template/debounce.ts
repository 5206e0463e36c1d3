import type { Clock } from '../common/clock.js';
import { invalidArgument } from '../common/errors.js';
import { parseDuration } from '../common/duration.js';

/** consul-template's quiescence: render after `minMs` without changes, at most `maxMs` after the first. */
export interface Wait {
  minMs: number;
  maxMs: number;
}

/** Parses `--wait min[:max]` (`2s:10s`, `500ms`); max defaults to 4×min, as in consul-template. */
export function parseWait(text: string): Wait {
  const [minText, maxText, extra] = text.split(':');
  if (extra !== undefined || !minText) throw invalidArgument(`invalid --wait '${text}': expected min or min:max`, 'e.g. --wait 2s:10s');
  const minMs = parseDuration(minText, '--wait');
  const maxMs = maxText === undefined || maxText === '' ? minMs * 4 : parseDuration(maxText, '--wait');
  if (maxMs < minMs) throw invalidArgument(`invalid --wait '${text}': max is shorter than min`, 'e.g. --wait 2s:10s');
  return { minMs, maxMs };
}

/**
 * Waits until changes have settled: returns once `minMs` have passed since the last change, or
 * `maxMs` since the first, whichever comes first. `lastChangeAt` is read again after every sleep,
 * so changes arriving meanwhile push the render back (never past the max).
 */
export async function quiesce(clock: Clock, wait: Wait, firstChangeAt: number, lastChangeAt: () => number, signal?: AbortSignal): Promise<void> {
  for (;;) {
    const deadline = Math.min(lastChangeAt() + wait.minMs, firstChangeAt + wait.maxMs);
    const left = deadline - clock.now();
    if (left <= 0) return;
    await clock.sleep(left, signal);
  }
}
