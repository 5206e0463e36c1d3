import { parseDuration } from '../common/duration.js';
import { invalidArgument } from '../common/errors.js';

/**
 * Event times. The engine reports `timeNano` (unix nanoseconds as a decimal string) and takes
 * `since`/`until` as unix seconds with an optional fraction (`1700000000.123456789`) or RFC 3339.
 * Times are compared as BigInt so nanoseconds are never rounded.
 */

/** `1700000000123456789` → `1700000000.123456789` (what `since` takes). */
export function nanoToSeconds(timeNano: string): string {
  const digits = timeNano.replace(/^0+(?=\d)/, '');
  if (!/^\d+$/.test(digits)) throw invalidArgument(`invalid event time '${timeNano}': expected unix nanoseconds`);
  const padded = digits.padStart(10, '0');
  return `${padded.slice(0, -9) || '0'}.${padded.slice(-9)}`;
}

/** Unix milliseconds → nanoseconds string. */
export function msToNano(ms: number): string {
  return (BigInt(Math.floor(ms)) * 1_000_000n).toString();
}

/** Nanoseconds string → unix milliseconds (truncated). */
export function nanoToMs(timeNano: string): number {
  return Number(BigInt(timeNano) / 1_000_000n);
}

/** -1, 0, 1 like a comparator; `undefined` sorts first. */
export function compareNano(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * A `--since`/`--until` value as `docker events` takes it: a duration back from now (`10m`,
 * `1h30m`), unix seconds (`1700000000`, `1700000000.5`) or an RFC 3339 / ISO date. Returns unix
 * nanoseconds.
 */
export function parseEventTime(value: string, now: number, flag = '--since'): string {
  const text = value.trim();
  if (/^\d+(\.\d{1,9})?$/.test(text)) {
    const [sec, frac = ''] = text.split('.');
    return (BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'))).toString();
  }
  if (/^\d+(\.\d*)?(ns|us|\u00b5s|ms|s|m|h)/.test(text)) return msToNano(now - parseDuration(text, flag));
  const ms = Date.parse(text);
  if (!Number.isNaN(ms) && /^\d{4}-\d{2}-\d{2}/.test(text)) return msToNano(ms);
  throw invalidArgument(`invalid ${flag} '${value}': expected a duration (10m), unix seconds or an ISO date`, `e.g. ${flag} 10m, ${flag} 2026-01-02T03:04:05Z or ${flag} 1700000000`);
}
