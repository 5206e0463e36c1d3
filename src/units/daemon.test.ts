import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeEngine } from '../engine/index.js';
import type { UnitOption } from './api.js';
import { startUnitsDaemon } from './daemon.js';
import { FakeSwarm } from './fake-swarm.test-support.js';

const dirs: string[] = [];
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Lets the daemon's loop run its pending steps (the fake engine answers synchronously). */
const settle = async () => {
  for (let i = 0; i < 30; i++) await new Promise<void>((r) => setImmediate(r));
};

const options: UnitOption[] = [
  { section: 'Service', name: 'ExecStartPre', value: '-/usr/bin/docker rm %p-%i' },
  { section: 'Service', name: 'ExecStart', value: '/usr/bin/docker run --name %p-%i repo/app:1' },
];

describe('the units daemon', () => {
  it('reports the engine in health, notices it going away at once (event stream), and relaunches units when it is back', async () => {
    const engine = new FakeEngine();
    const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-unitsd-'));
    dirs.push(stateDir);
    const logs: string[] = [];
    const d = await startUnitsDaemon({ engine, stateDir, log: (_l, msg) => logs.push(msg) });
    expect(d.backend).toBe('docker'); // the fake is not a Swarm manager
    await settle();
    expect((await d.health()).engine).toMatchObject({ reachable: true, status: 'connected (Docker fake, API 1.47)' });
    await d.registry.put({ name: 'app@1.service', options, desiredState: 'launched' });
    const [c] = await engine.list();

    // dockerd goes down: its containers stop, the event stream breaks.
    await engine.stop(c!.id, 0);
    engine.unreachable = true;
    engine.dropEventStreams();
    await settle();
    expect(d.engineReachable()).toBe(false);
    expect((await d.health()).engine).toMatchObject({ reachable: false, status: 'unreachable' });
    expect((await d.registry.list())[0]!.currentState).toBeUndefined();

    // It comes back: the next retry reconnects and relaunches the unit (one container, running).
    engine.unreachable = false;
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(d.engineReachable()).toBe(true);
    expect((await engine.list()).map((x) => x.name)).toEqual(['app-1']);
    expect(await engine.list({ all: true })).toHaveLength(1);
    expect(logs).toEqual(expect.arrayContaining(['engine unreachable', 'engine connected']));
    await d.close();
  });

  it('refuses --engine swarm on an engine that is not a Swarm manager', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-unitsd-'));
    dirs.push(stateDir);
    await expect(startUnitsDaemon({ engine: new FakeEngine(), stateDir, backend: 'swarm' })).rejects.toThrow(/not a Swarm manager/);
  });

  it('on a Swarm manager picks the Swarm backend, and says --metadata has no effect there (a machine is a node, its metadata the node labels)', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-unitsd-'));
    dirs.push(stateDir);
    const warnings: { msg: string; data: Record<string, unknown> | undefined }[] = [];
    const d = await startUnitsDaemon({ engine: new FakeSwarm(), stateDir, metadata: { region: 'us' }, log: (level, msg, data) => void (level === 'warn' && warnings.push({ msg, data })) });
    expect(d.backend).toBe('swarm');
    expect(warnings).toEqual([{ msg: expect.stringMatching(/^--metadata has no effect on Swarm/), data: { hint: 'docker node update --label-add KEY=VALUE NODE' } }]);
    expect(await d.registry.machines()).toEqual([{ id: 'n1', primaryIP: '10.0.0.1', metadata: { region: 'eu' } }]);
    await d.close();
  });
});
