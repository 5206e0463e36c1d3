import { describe, expect, it, vi } from 'vitest';
import type { DeployEvent } from '../deploy/index.js';
import { humanEvent, LiveProgress, wantsLiveProgress } from './deploy-progress.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function terminal() {
  const writes: string[] = [];
  return { out: { columns: 200, write: (t: string) => writes.push(t) }, writes };
}

describe('LiveProgress', () => {
  it('shows each replica waiting, its checks and the last output, with the time waited moving on a ticker', () => {
    vi.useFakeTimers({ now: T0 });
    try {
      const { out, writes } = terminal();
      const live = new LiveProgress(out, Date.now, 500).start();
      const events: DeployEvent[] = [
        { type: 'service-started', at: at(0), service: 'web', action: 'update', causes: ['image'] },
        { type: 'replica-started', at: at(0), service: 'web', slot: 1, id: 'a'.repeat(64), name: 'p-web-1', image: 'web:2' },
        { type: 'replica-waiting', at: at(1), service: 'web', slot: 1, id: 'a'.repeat(64), since: at(0), status: 'running', health: 'starting', attempts: 2, failingStreak: 2, lastCheck: { exitCode: 1, output: 'not ready yet' }, monitorMs: 5000 },
      ];
      for (const e of events) live.event(e);
      vi.setSystemTime(T0 + 1000);
      expect(live.render()).toEqual(['  ⋯ web: update · 1s', '      [1] running, health starting · waited 1s · 2 checks · last exit 1: not ready yet']);
      const before = writes.length;
      vi.advanceTimersByTime(3000);
      // Redrawn on the ticker although no event came: at least once a second.
      expect(writes.length - before).toBeGreaterThanOrEqual(6);
      expect(writes.at(-1)).toContain('waited 4s');
      live.event({ type: 'replica-waiting', at: at(4), service: 'web', slot: 1, id: 'a'.repeat(64), since: at(0), status: 'running', health: 'healthy', attempts: 3, failingStreak: 0, lastCheck: { exitCode: 0, output: '' }, readySince: at(3), monitorMs: 5000 });
      expect(live.render()[1]).toBe('      [1] running, health healthy · waited 4s · monitoring 1s of 5s · 3 checks · last exit 0');
      live.event({ type: 'replica-ready', at: at(4), service: 'web', slot: 1, id: 'a'.repeat(64), ms: 4000, health: 'healthy' });
      expect(live.render()[1]).toBe('      [1] healthy after 4.0s · 3 checks');
      live.event({ type: 'service-finished', at: at(5), service: 'web', outcome: 'ok' });
      expect(live.render()).toEqual([]);
      live.stop();
      const after = writes.length;
      vi.advanceTimersByTime(3000);
      expect(writes.length).toBe(after);
      // Log lines went out above the live block, which was cleared (cursor up N, clear) before each.
      expect(writes.join('')).toContain('web: update (image)\n');
      expect(writes.join('')).toContain('\x1b[2A\x1b[J');
    } finally {
      vi.useRealTimers();
    }
  });

  it('never draws a line wider than the terminal (so the block can be cleared by counting lines)', () => {
    const { writes } = terminal();
    const out = { columns: 40, write: (t: string) => writes.push(t) };
    const live = new LiveProgress(out, () => T0);
    live.event({ type: 'service-started', at: at(0), service: 'web', action: 'update', causes: [] });
    live.event({ type: 'replica-waiting', at: at(0), service: 'web', slot: 1, id: 'x', since: at(0), status: 'running', health: 'starting', attempts: 1, failingStreak: 1, lastCheck: { exitCode: 1, output: 'x'.repeat(300) }, monitorMs: 0 });
    const block = writes.at(-1)!.split('\n').filter(Boolean);
    expect(block.every((l) => [...l].length <= 39)).toBe(true);
  });
});

describe('humanEvent', () => {
  it('prints replaced and failed apart, and nothing for progress-only events', () => {
    expect(humanEvent({ type: 'batch-done', at: at(0), service: 'web', updated: 1, failed: 1, total: 2 })).toBe('  web: 1/2 replaced, 1 failed');
    expect(humanEvent({ type: 'batch-done', at: at(0), service: 'web', updated: 2, failed: 0, total: 2 })).toBe('  web: 2/2 replaced');
    expect(humanEvent({ type: 'replica-stopping', at: at(0), service: 'web', slot: 1, id: 'x', graceSeconds: 10 })).toBeNull();
  });

  it('is live only on a terminal, outside CI', () => {
    expect(wantsLiveProgress({ isTTY: true }, {})).toBe(true);
    expect(wantsLiveProgress({ isTTY: false }, {})).toBe(false);
    expect(wantsLiveProgress({ isTTY: true }, { CI: 'true' })).toBe(false);
    expect(wantsLiveProgress({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });
});
