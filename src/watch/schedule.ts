import { Cron } from 'croner';
import { invalidArgument } from '../common/errors.js';

/** When passes run: every interval (from the end of the last), or on a cron schedule. */
export type Schedule = { kind: 'interval'; ms: number } | { kind: 'cron'; expression: string; cron: Cron };

/**
 * A cron expression as Watchtower takes it (6 fields, seconds first: `0 0 4 * * *`) or the
 * classic 5 fields (minutes first), plus `@hourly`/`@daily`/…; croner parses and computes runs.
 */
export function parseSchedule(expression: string): Schedule {
  const text = expression.trim();
  try {
    const cron = new Cron(text, { paused: true, legacyMode: true });
    if (!cron.nextRun()) throw new Error('it never fires');
    return { kind: 'cron', expression: text, cron };
  } catch (cause) {
    throw invalidArgument(`invalid --schedule '${text.slice(0, 80)}': ${(cause as Error).message}`, "6 fields with seconds first, as Watchtower: '0 0 4 * * *' (04:00 daily), or 5 fields, or @daily", cause);
  }
}

/** Milliseconds until the next pass, after one that ended at `now`. */
export function nextRun(s: Schedule, now: number): number {
  if (s.kind === 'interval') return s.ms;
  const next = s.cron.nextRun(new Date(now));
  return next ? Math.max(0, next.getTime() - now) : Number.POSITIVE_INFINITY;
}
