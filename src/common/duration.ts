import { invalidArgument } from './errors.js';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h)/y;

/**
 * Parses a Go-style duration (`300ms`, `10s`, `1m30s`, `1.5h`), the syntax Pumba and the docker
 * CLI accept, into whole milliseconds. `0` alone is allowed; any other number needs a unit.
 */
export function parseDuration(input: string, flag = 'duration'): number {
  const text = input.trim();
  if (text === '0') return 0;
  if (text === '') throw invalidArgument(`invalid ${flag} '': empty`, 'use e.g. 10s, 500ms, 2m or 1h30m');
  if (/^\d+(\.\d+)?$/.test(text)) {
    throw invalidArgument(
      `invalid ${flag} '${input}': missing unit`,
      `add a unit: ${text}s, ${text}ms or ${text}m`,
    );
  }
  let total = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) {
      throw invalidArgument(
        `invalid ${flag} '${input}': unexpected '${text.slice(pos)}'`,
        'use e.g. 10s, 500ms, 2m or 1h30m (units: ms, s, m, h)',
      );
    }
    total += Number(m[1]) * (UNIT_MS[m[2]!] ?? 0);
    pos = PART.lastIndex;
  }
  if (!Number.isFinite(total) || total > 365 * 24 * 3_600_000) {
    throw invalidArgument(`invalid ${flag} '${input}': too large`, 'use at most a year');
  }
  return Math.round(total);
}

/** Formats milliseconds the way parseDuration reads them back (`1m30s`, `250ms`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = ms;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (s) parts.push(`${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`);
  return parts.join('');
}
