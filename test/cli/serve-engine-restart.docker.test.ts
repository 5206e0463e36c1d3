import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerdArgv, dockerdPid, ensureDockerdRunning, startDockerd, startStopped, stopDockerd, waitForEngine } from '../dockerd.js';
import { docker, IMAGE, startCli, waitFor, type CliProcess } from '../helpers.js';

/**
 * `kiboko serve` while dockerd restarts under it: it keeps serving, /healthz shows the engine
 * unreachable then connected, and launched units are launched again afterwards (one by the
 * engine's restart policy, one by kiboko's reconcile), never duplicated. dockerd is restarted
 * the way scripts/ensure-docker.sh starts it — the same command line, in the background — and
 * is brought back in `finally` whatever happens, with the containers that were running before.
 */
const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-serve-restart-'));
const APP = `ktrestart${Math.random().toString(16).slice(2, 6)}`;
let daemon: CliProcess | undefined;

afterAll(async () => {
  if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
  const mine = await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.units.unit'] }) }).catch(() => []);
  for (const c of mine.filter((x) => x.Labels['kiboko.units.unit']!.startsWith(APP))) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  rmSync(stateDir, { recursive: true, force: true });
}, 120_000);

const unit = (name: string, restart: string[]) => [
  { section: 'Service', name: 'ExecStartPre', value: '-/usr/bin/docker rm -f %p' },
  ...restart.map((value) => ({ section: 'Service', name: 'Restart', value })),
  { section: 'Service', name: 'ExecStart', value: `/usr/bin/docker run --name %p ${IMAGE} sh -c "trap 'exit 0' TERM; while true; do sleep 0.2; done"` },
  { section: 'Service', name: 'ExecStop', value: '/usr/bin/docker stop %p' },
];

describe('kiboko serve across a dockerd restart', () => {
  it('keeps serving, shows the engine unreachable then connected, and has its units launched again, once each', async () => {
    const pid = dockerdPid();
    expect(pid, 'dockerd runs on this host').toBeDefined();
    const argv = dockerdArgv(pid!);
    const before = (await docker.listContainers()).map((c) => c.Id);
    const swarmBefore = (await docker.info()).Swarm?.LocalNodeState;

    daemon = startCli(['serve', '--listen', '127.0.0.1:0'], { stateDir });
    await daemon.waitForOutput('"event":"listening"');
    const line = JSON.parse(daemon.stdout().split('\n').find((l) => l.includes('"listening"'))!);
    const base: string = line.addresses[0];
    const token = readFileSync(line.tokenFile, 'utf8').trim();
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
    const health = async () => ((await (await fetch(`${base}/healthz`)).json()) as { engine: { reachable: boolean; status: string } }).engine;
    const units = async () => ((await (await api('/fleet/v1/units')).json()) as { units: { name: string; currentState?: string }[] }).units;
    const perUnit = async () => {
      const cs = await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.units.unit'] }) });
      return cs.filter((c) => c.Labels['kiboko.units.unit']!.startsWith(APP)).map((c) => [c.Labels['kiboko.units.unit'], c.State]).sort();
    };

    const names = [`${APP}-always.service`, `${APP}-plain.service`];
    expect((await api(`/fleet/v1/units/${names[0]}`, { method: 'PUT', body: JSON.stringify({ desiredState: 'launched', options: unit(names[0]!, ['always']) }) })).status).toBe(201);
    expect((await api(`/fleet/v1/units/${names[1]}`, { method: 'PUT', body: JSON.stringify({ desiredState: 'launched', options: unit(names[1]!, []) }) })).status).toBe(201);
    expect(await perUnit()).toEqual(names.map((n) => [n, 'running']));
    expect(await health()).toMatchObject({ reachable: true, status: expect.stringMatching(/^connected/) });

    let restarted = false;
    try {
      await stopDockerd(pid!);
      // The daemon keeps serving; health shows the engine unreachable; the unit list still answers.
      const down = await waitFor(async () => {
        const h = await health();
        return !h.reachable && h;
      }, 15_000, 200);
      expect(down.status).toBe('unreachable');
      expect((await units()).filter((u) => u.name.startsWith(APP)).map((u) => u.name)).toEqual(names);

      startDockerd(argv);
      await waitForEngine();
      restarted = true;
      await waitFor(async () => (await health()).reachable, 15_000, 200);
      // Relaunched by the engine (Restart=always → restart policy) or by kiboko's reconcile: one container each.
      await waitFor(async () => JSON.stringify(await perUnit()) === JSON.stringify(names.map((n) => [n, 'running'])), 30_000, 250);
      const launched = await waitFor(async () => {
        const list = (await units()).filter((u) => u.name.startsWith(APP));
        return list.every((u) => u.currentState === 'launched') && list;
      }, 15_000, 200);
      expect(launched.map((u) => u.currentState)).toEqual(['launched', 'launched']);
      expect(await perUnit()).toEqual(names.map((n) => [n, 'running']));
    } finally {
      if (!restarted) await ensureDockerdRunning(argv);
      // Leave the engine as it was found: the containers that ran before run again, Swarm unchanged.
      await startStopped(before);
      expect((await docker.info()).Swarm?.LocalNodeState).toBe(swarmBefore);
    }

    daemon!.child.kill('SIGTERM');
    expect((await daemon!.done).code).toBe(0);
  }, 180_000);
});
