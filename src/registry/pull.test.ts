import { describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { FakeEngine } from '../engine/index.js';
import { pullImage } from './pull.js';

describe('pullImage (robust)', () => {
  it('retries a failing registry with backoff, and stops at once on a final cause', async () => {
    const engine = new FakeEngine();
    let calls = 0;
    engine.failWith = (op) => (op === 'pull' && ++calls <= 2 ? new KibokoError('REGISTRY_UNREACHABLE', 'pull x: the registry is failing: 503 Service Unavailable') : undefined);
    engine.addImage({ id: 'sha256:1', tags: ['127.0.0.1:5000/app:1'], labels: {} });
    const waits: number[] = [];
    const r = await pullImage(engine, '127.0.0.1:5000/app:1', { clock: { now: () => 0, sleep: async () => undefined }, random: () => 1, onRetry: (i) => waits.push(i.waitMs), credentials: { configFile: '/nonexistent' } });
    expect(r.attempts).toBe(3);
    expect(waits).toEqual([1000, 2000]);
    engine.failWith = (op) => (op === 'pull' ? new KibokoError('REGISTRY_UNAUTHORIZED', 'pull x: unauthorized') : undefined);
    await expect(pullImage(engine, '127.0.0.1:5000/app:1', { clock: { now: () => 0, sleep: async () => undefined }, credentials: { configFile: '/nonexistent' } })).rejects.toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
  });
});
