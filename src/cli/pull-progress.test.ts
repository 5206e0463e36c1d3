import { describe, expect, it } from 'vitest';
import type { Engine, PullProgress } from '../engine/index.js';
import { PullTracker, withPullProgress, type PullProgressEvent } from './pull-progress.js';

const L1 = 'aaaaaaaaaaaa';
const L2 = 'bbbbbbbbbbbb';

/** An engine whose pull streams the given messages, one every `stepMs`, and honours the signal. */
function streaming(messages: PullProgress[], stepMs: number) {
  const seen: { signal?: AbortSignal | undefined }[] = [];
  const engine = {
    async pullImage(_ref: string, onProgress?: (l: string, p?: PullProgress) => void, options: { signal?: AbortSignal } = {}) {
      seen.push(options);
      for (const m of messages) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, stepMs);
          options.signal?.addEventListener('abort', () => (clearTimeout(t), reject(new Error('cancelled'))), { once: true });
        });
        onProgress?.(`${m.id}: ${m.status}`, m);
      }
    },
    info: async () => ({ ok: true }),
  } as unknown as Engine;
  return { engine, seen };
}

const tty = () => {
  const out: string[] = [];
  return { out, stream: { columns: 200, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream };
};

describe('PullTracker', () => {
  it('adds up layers and bytes; layers done once pulled or already there', () => {
    const t = new PullTracker('app:1', 0);
    t.update({ id: '1-develop', status: 'Pulling from team/app' });
    t.update({ id: L1, status: 'Already exists' });
    t.update({ id: L2, status: 'Downloading', current: 5e6, total: 2e7 });
    expect(t.snapshot(1500, 'pulling')).toMatchObject({ layers: 2, layersDone: 1, downloaded: 5e6, total: 2e7, elapsedMs: 1500 });
    expect(t.line(1500, 200)).toBe('pull app:1: 1/2 layers 5.0/20.0 MB 2s — bbbbbbb downloading 25%');
    t.update({ id: L2, status: 'Download complete' });
    t.update({ id: L2, status: 'Pull complete' });
    expect(t.snapshot(2000, 'done')).toMatchObject({ layersDone: 2, downloaded: 2e7 });
  });
});

describe('withPullProgress', () => {
  const messages: PullProgress[] = [
    { id: L1, status: 'Pulling fs layer' },
    { id: L1, status: 'Downloading', current: 1000, total: 4000 },
    { id: L1, status: 'Downloading', current: 4000, total: 4000 },
    { id: L1, status: 'Pull complete' },
  ];

  it('on a terminal: redrawn while the pull runs (also with no message, by the timer), then one final line', async () => {
    const { engine } = streaming(messages, 40);
    const t = tty();
    await withPullProgress(engine, { tty: t.stream, intervalMs: 20 }).pullImage('app:1');
    const lines = t.out.join('').split('\r\x1b[2K').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(6); // ~8 timer ticks over 160 ms, plus progress redraws
    expect(lines.some((l) => l.includes('aaaaaaa downloading 25%'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^pulled app:1: 1 layers, 0.0 MB in \d+\.\ds\n$/);
  });

  it('--json: pulling events on the interval and one for the end; nothing on a terminal', async () => {
    const { engine } = streaming(messages, 40);
    const events: PullProgressEvent[] = [];
    await withPullProgress(engine, { json: (e) => events.push(e), intervalMs: 30 }).pullImage('app:1');
    expect(events.filter((e) => e.state === 'pulling').length).toBeGreaterThanOrEqual(3);
    expect(events.at(-1)).toMatchObject({ type: 'pull-progress', image: 'app:1', state: 'done', layers: 1, layersDone: 1, downloaded: 4000, total: 4000 });
  });

  it("quiet without a terminal or --json; the command's signal cancels the pull", async () => {
    const { engine, seen } = streaming(messages, 1000);
    const ctl = new AbortController();
    const events: PullProgressEvent[] = [];
    const p = withPullProgress(engine, { signal: ctl.signal, json: (e) => events.push(e), intervalMs: 10_000 }).pullImage('app:1');
    setTimeout(() => ctl.abort(), 30);
    await expect(p).rejects.toThrow('cancelled');
    expect(seen[0]!.signal?.aborted).toBe(true);
    expect(events).toMatchObject([{ state: 'cancelled' }]);
  });

  it('other engine methods pass through to the engine', async () => {
    const { engine } = streaming([], 1);
    expect(await withPullProgress(engine, {}).info()).toEqual({ ok: true });
  });
});
