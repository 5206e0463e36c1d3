import { describe, expect, it } from 'vitest';
import { nextRun, parseSchedule } from './schedule.js';

describe('schedules', () => {
  it("reads Watchtower's 6-field cron (seconds first) and 5-field cron", () => {
    const at = Date.UTC(2026, 0, 1, 3, 59, 0);
    expect(nextRun(parseSchedule('0 0 4 * * *'), at)).toBe(60_000);
    expect(nextRun(parseSchedule('*/15 * * * * *'), at)).toBe(15_000);
    expect(nextRun(parseSchedule('*/5 * * * *'), at)).toBe(60_000);
    expect(nextRun({ kind: 'interval', ms: 5000 }, at)).toBe(5000);
    expect(() => parseSchedule('61 * * * * *')).toThrow(/invalid --schedule/);
  });
});
