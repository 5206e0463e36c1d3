import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, IMAGE, startCli, waitFor, type CliProcess } from '../helpers.js';

/**
 * `kiboko serve --engine swarm` on a real one-node Swarm (`docker swarm init --advertise-addr
 * 127.0.0.1`, made for this file and left again afterwards): each unit is a Swarm service whose
 * labels hold the unit, [X-Fleet] options become placement, and a restarted daemon finds every
 * unit in the cluster's own service specs. The machines are the Swarm nodes, in /machines, /units and /state alike.
 */
const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-serve-swarm-'));
const APP = `ktsw${Math.random().toString(16).slice(2, 6)}`;
let daemon: CliProcess | undefined;
let initialisedHere = false;

const services = async () =>
  (await docker.listServices({ filters: JSON.stringify({ label: ['kiboko.units.unit'] }) })).filter((s) => s.Spec!.Labels!['kiboko.units.unit']!.startsWith(APP));
const serviceOf = async (unit: string) => (await services()).find((s) => s.Spec!.Labels!['kiboko.units.unit'] === unit);

beforeAll(async () => {
  const info = await docker.info();
  if (info.Swarm?.LocalNodeState !== 'active') {
    await docker.swarmInit({ ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1' });
    initialisedHere = true;
  }
}, 60_000);

afterAll(async () => {
  if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
  for (const s of await services().catch(() => [])) await docker.getService(s.ID).remove().catch(() => undefined);
  await waitFor(async () => (await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['kiboko.units.unit'] }) })).every((c) => !c.Labels['kiboko.units.unit']!.startsWith(APP)), 30_000, 250).catch(() => undefined);
  if (initialisedHere) await docker.swarmLeave({ force: true });
  rmSync(stateDir, { recursive: true, force: true });
}, 120_000);

async function startDaemon() {
  daemon = startCli(['serve', '--listen', '127.0.0.1:0', '--engine', 'swarm'], { stateDir });
  await daemon.waitForOutput('"event":"listening"');
  const line = JSON.parse(daemon.stdout().split('\n').find((l) => l.includes('"listening"'))!);
  const base: string = line.addresses[0];
  const token = readFileSync(line.tokenFile, 'utf8').trim();
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  const units = async () =>
    ((await (await api('/fleet/v1/units')).json()) as { units: { name: string; desiredState: string; currentState?: string; machineID?: string; message?: string }[] }).units.filter((u) => u.name.startsWith(APP));
  const states = async () => ((await (await api('/fleet/v1/state')).json()) as { states: { name: string; machineID: string; systemdActiveState: string }[] }).states.filter((s) => s.name.startsWith(APP));
  const machines = async () => ((await (await api('/fleet/v1/machines')).json()) as { machines: { id: string; primaryIP: string; metadata: Record<string, string> }[] }).machines;
  const put = (name: string, body: unknown) => api(`/fleet/v1/units/${encodeURIComponent(name)}`, { method: 'PUT', body: JSON.stringify(body) });
  return { api, units, states, machines, put };
}

const options = (extra: { section: string; name: string; value: string }[] = []) => [
  { section: 'Service', name: 'ExecStartPre', value: '-/usr/bin/docker rm -f %p-%i' },
  { section: 'Service', name: 'ExecStart', value: `/usr/bin/docker run --name %p-%i --stop-timeout 1 ${IMAGE} sh -c "trap 'exit 0' TERM; while true; do sleep 0.2; done"` },
  ...extra,
];

describe('kiboko serve --engine swarm', () => {
  it('runs units as Swarm services that hold the unit, maps [X-Fleet] to placement, and survives a daemon kill -9', async () => {
    let { units, put, api } = await startDaemon();
    const web = `${APP}:1@1.service`;
    expect((await put(web, { desiredState: 'launched', options: options() })).status).toBe(201);
    const svc = (await serviceOf(web))!;
    expect(svc.Spec!.Labels).toMatchObject({ 'kiboko.units.unit': web, 'kiboko.units.desired-state': 'launched' });
    expect(JSON.parse(svc.Spec!.Labels!['kiboko.units.options']!)).toEqual(options());
    expect(svc.Spec!.Mode!.Replicated!.Replicas).toBe(1);
    await waitFor(async () => (await units()).find((u) => u.name === web)?.currentState === 'launched', 60_000, 250);

    // MachineMetadata → a node-label constraint no node meets: the task waits, the unit stays loaded.
    const eu = `${APP}-eu.service`;
    expect((await put(eu, { desiredState: 'launched', options: options([{ section: 'X-Fleet', name: 'MachineMetadata', value: `region=${APP}` }]) })).status).toBe(201);
    expect((await serviceOf(eu))!.Spec!.TaskTemplate!.Placement!.Constraints).toEqual([`node.labels.region==${APP}`]);
    const waiting = await waitFor(async () => {
      const u = (await units()).find((x) => x.name === eu);
      return u?.message?.includes('no suitable node') && u;
    }, 30_000, 250);
    expect(waiting.currentState).toBe('loaded');

    // Global → mode global.
    const g = `${APP}-g.service`;
    expect((await put(g, { desiredState: 'launched', options: options([{ section: 'X-Fleet', name: 'Global', value: 'true' }]) })).status).toBe(201);
    expect((await serviceOf(g))!.Spec!.Mode).toEqual({ Global: {} });

    // kill -9 and start again: every unit is read back from the services, nothing is recreated.
    const ids = (await services()).map((s) => s.ID).sort();
    daemon!.child.kill('SIGKILL');
    await daemon!.done;
    ({ units, put, api } = await startDaemon());
    expect((await units()).map((u) => [u.name, u.desiredState]).sort()).toEqual([
      [eu, 'launched'],
      [g, 'launched'],
      [web, 'launched'],
    ]);
    await new Promise((r) => setTimeout(r, 500)); // the start-up reconcile
    expect((await services()).map((s) => s.ID).sort()).toEqual(ids);

    // loaded = 0 replicas; DELETE removes the service.
    expect((await put(web, { desiredState: 'loaded' })).status).toBe(204);
    expect((await serviceOf(web))!.Spec!.Mode!.Replicated!.Replicas).toBe(0);
    for (const n of [web, eu, g]) expect((await api(`/fleet/v1/units/${encodeURIComponent(n)}`, { method: 'DELETE' })).status).toBe(204);
    expect(await services()).toEqual([]);

    daemon!.child.kill('SIGTERM');
    expect((await daemon!.done).code).toBe(0);
  });

  it('names the Swarm nodes as the machines: /machines lists them (id, address, node labels), /units and /state name the node a task runs on', async () => {
    const { api, units, states, machines, put } = await startDaemon();
    const nodes = (await docker.listNodes()).filter((n) => n.Status?.State !== 'down');
    const self = (await docker.info()).Swarm!.NodeID as string;
    const listed = await machines();
    expect(listed.map((m) => [m.id, m.metadata]).sort()).toEqual(nodes.map((n) => [n.ID, n.Spec?.Labels ?? {}]).sort());
    for (const m of listed) expect(m.primaryIP).toMatch(/^[0-9a-f.:]+$/);
    expect(listed.find((m) => m.id === self)!.primaryIP).not.toBe('0.0.0.0');
    if (initialisedHere) expect(listed).toEqual([{ id: self, primaryIP: '127.0.0.1', metadata: {} }]);

    const up = `${APP}-up.service`;
    const ready = `${APP}-ready.service`;
    const nowhere = `${APP}-nowhere.service`;
    const g = `${APP}-all.service`;
    await put(up, { desiredState: 'launched', options: options() });
    await put(ready, { desiredState: 'loaded', options: options() });
    await put(nowhere, { desiredState: 'launched', options: options([{ section: 'X-Fleet', name: 'MachineMetadata', value: `region=${APP}` }]) });
    await put(g, { desiredState: 'launched', options: options([{ section: 'X-Fleet', name: 'Global', value: 'true' }]) });
    const byName = await waitFor(async () => {
      const all = Object.fromEntries((await units()).map((u) => [u.name, u]));
      return all[up]?.currentState === 'launched' && all[g]?.currentState === 'launched' && all[nowhere]?.message?.includes('no suitable node') && all;
    }, 60_000, 250);
    // A task runs on a node (the one there is); a loaded unit is on the node the daemon talks to; not scheduled: no machine.
    expect(byName[up]!.machineID).toBe(self);
    expect(byName[ready]).toMatchObject({ currentState: 'loaded', machineID: self });
    expect(byName[nowhere]!.machineID).toBeUndefined();
    expect(byName[g]!.machineID).toBeUndefined(); // fleet: a global unit is on every machine, /state has one record each
    const st = await states();
    expect(st.map((s) => [s.name, s.machineID]).sort()).toEqual([
      [g, self],
      [up, self],
      [ready, self],
    ].sort());
    const ids = listed.map((m) => m.id);
    for (const s of st) expect(ids).toContain(s.machineID);
    for (const n of [up, ready, nowhere, g]) expect((await api(`/fleet/v1/units/${encodeURIComponent(n)}`, { method: 'DELETE' })).status).toBe(204);
    daemon!.child.kill('SIGTERM');
    expect((await daemon!.done).code).toBe(0);
  });
});
