import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeEngine } from '../engine/index.js';
import { Journal } from '../journal/index.js';
import { ChaosService } from './chaos.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function pausedVictim() {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-chaos-service-'));
  dirs.push(dir);
  const engine = new FakeEngine();
  const victim = engine.add({ name: 'victim' });
  const chaos = new ChaosService({ engine, journal: new Journal(dir), stopTimeoutMs: 300 });
  const x = await chaos.start({ action: 'pause', targets: ['victim'], duration: '1h' });
  for (let i = 0; i < 200 && (await engine.inspect(victim.id)).status !== 'paused'; i++) await new Promise((r) => setTimeout(r, 5));
  expect((await engine.inspect(victim.id)).status).toBe('paused');
  return { engine, victim, chaos, id: x.id };
}

describe('ChaosService.stop', () => {
  it('answers TIMEOUT (504) when the restore does not finish in time, and the run stays visible as stopping', async () => {
    const { engine, chaos, id } = await pausedVictim();
    engine.unpause = () => new Promise<void>(() => undefined); // an engine that never answers
    const started = Date.now();
    const err = await chaos.stop(id).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(chaos.get(id)).toMatchObject({ status: 'running', stoppedBy: 'api' });
  });

  it('answers with the final report when the restore finishes', async () => {
    const { engine, victim, chaos, id } = await pausedVictim();
    expect(await chaos.stop(id)).toMatchObject({ status: 'stopped', stoppedBy: 'api' });
    expect((await engine.inspect(victim.id)).status).toBe('running');
  });
});
