import { describe, expect, it } from 'vitest';
import { handleFleet, type FleetUnit, type Machine, type UnitOption, type UnitStateRecord } from './api.js';
import { FAKE_NODE, FakeSwarm } from './fake-swarm.test-support.js';
import { RECORD_IMAGE, serviceName, SwarmRegistry } from './swarm-registry.js';

const svc = (name: string, value: string): UnitOption => ({ section: 'Service', name, value });
const x = (name: string, value: string): UnitOption => ({ section: 'X-Fleet', name, value });
const unit = (name: string, extra: UnitOption[] = []): UnitOption[] => [svc('ExecStartPre', '-/usr/bin/docker rm -f %p-%i'), svc('ExecStart', `/usr/bin/docker run --name ${name} -p 8080:80 repo/app:1`), ...extra];

function setup(engine = new FakeSwarm(), allowAnyExecStart = false) {
  const registry = new SwarmRegistry(engine, { allowAnyExecStart });
  const call = (method: string, path: string, body?: unknown, query = '') =>
    handleFleet({ method, path, query: new URLSearchParams(query), contentType: 'application/json', body: body === undefined ? undefined : JSON.stringify(body) }, registry);
  const units = async () => ((await call('GET', '/fleet/v1/units')).body as { units: FleetUnit[] }).units;
  const states = async () => ((await call('GET', '/fleet/v1/state')).body as { states: UnitStateRecord[] }).states;
  const machines = async () => ((await call('GET', '/fleet/v1/machines')).body as { machines: Machine[] }).machines;
  const service = (u: string) => [...engine.services.values()].find((s) => s.def.labels['kiboko.units.unit'] === u)?.def;
  return { engine, registry, call, units, states, machines, service };
}

describe('SwarmRegistry: fleet units as Swarm services', () => {
  it('keeps each unit in its service labels: launched = 1 replica, loaded = 0; a restarted daemon reads them back', async () => {
    const { engine, call, units, states, service } = setup();
    expect((await call('PUT', '/fleet/v1/units/app:1.0.0@1.service', { desiredState: 'launched', options: unit('%p-%i') })).status).toBe(201);
    const def = service('app:1.0.0@1.service')!;
    expect(def.name).toBe(serviceName('app:1.0.0@1.service'));
    expect(def.name).toMatch(/^app-1-0-0-1-[0-9a-f]{6}$/);
    expect(def).toMatchObject({ image: 'repo/app:1', replicas: 1, mode: 'replicated', ports: [{ target: 80, published: 8080, protocol: 'tcp' }] });
    expect(JSON.parse(def.labels['kiboko.units.options']!)).toEqual(unit('%p-%i'));
    expect(def.labels['kiboko.units.desired-state']).toBe('launched');
    expect((await units())[0]).toMatchObject({ currentState: 'launched', machineID: 'n1' });
    expect((await states())[0]).toMatchObject({ systemdActiveState: 'active', systemdSubState: 'running', machineID: 'n1' });

    expect((await call('PUT', '/fleet/v1/units/app:1.0.0@1.service', { desiredState: 'loaded' })).status).toBe(204);
    expect(service('app:1.0.0@1.service')).toMatchObject({ replicas: 0, ports: [] });
    expect((await units())[0]).toMatchObject({ desiredState: 'loaded', currentState: 'loaded' });

    const again = setup(engine);
    expect((await again.units()).map((u) => [u.name, u.desiredState])).toEqual([['app:1.0.0@1.service', 'loaded']]);
    await again.registry.reconcileAll('recover');
    expect(engine.services.size).toBe(1);
    expect((await again.call('DELETE', '/fleet/v1/units/app:1.0.0@1.service')).status).toBe(204);
    expect(engine.services.size).toBe(0);
  });

  it('maps MachineMetadata to a constraint (a task that cannot be placed leaves the unit loaded, with the reason)', async () => {
    const { call, units, service } = setup();
    await call('PUT', '/fleet/v1/units/us.service', { desiredState: 'launched', options: unit('us', [x('MachineMetadata', 'region=us')]) });
    expect(service('us.service')!.constraints).toEqual(['node.labels.region==us']);
    expect((await units())[0]).toMatchObject({ currentState: 'loaded', message: expect.stringMatching(/task pending: no suitable node/) });
  });

  it('Global → mode global (recreated when it starts or stops); Conflicts → the conflicting nodes excluded', async () => {
    const { call, units, service } = setup();
    await call('PUT', '/fleet/v1/units/g.service', { desiredState: 'launched', options: unit('gg', [x('Global', 'true')]) });
    expect(service('g.service')).toMatchObject({ mode: 'global', replicas: 0 });
    expect((await units())[0]).toMatchObject({ currentState: 'launched' });
    await call('PUT', '/fleet/v1/units/g.service', { desiredState: 'loaded' });
    expect(service('g.service')).toMatchObject({ mode: 'replicated', replicas: 0 });

    await call('PUT', '/fleet/v1/units/a.service', { desiredState: 'launched', options: unit('aa') });
    await call('PUT', '/fleet/v1/units/b.service', { desiredState: 'launched', options: unit('bb', [x('Conflicts', 'a.*')]) });
    expect(service('b.service')!.constraints).toEqual(['node.id!=n1']);
    expect((await units()).find((u) => u.name === 'b.service')).toMatchObject({ currentState: 'loaded' });
    await call('DELETE', '/fleet/v1/units/a.service');
    expect(service('b.service')!.constraints).toEqual([]);
    expect((await units()).find((u) => u.name === 'b.service')).toMatchObject({ currentState: 'launched' });
  });

  it('stores templates and not-runnable units as records (0 replicas), and makes instances from templates', async () => {
    const { call, units, service } = setup(new FakeSwarm(), true);
    await call('PUT', '/fleet/v1/units/web@.service', { desiredState: 'inactive', options: unit('%p-%i') });
    expect((await call('PUT', '/fleet/v1/units/web@7.service', { desiredState: 'launched' })).status).toBe(201);
    expect(service('web@.service')).toMatchObject({ replicas: 0 });
    expect(service('web@7.service')).toMatchObject({ replicas: 1 });
    await call('PUT', '/fleet/v1/units/py.service', { desiredState: 'launched', options: [svc('ExecStart', '/usr/bin/python3 -m http.server')] });
    expect(service('py.service')).toMatchObject({ image: RECORD_IMAGE, replicas: 0 });
    expect((await units()).find((u) => u.name === 'py.service')).toMatchObject({ currentState: 'inactive', message: expect.stringMatching(/^not runnable/) });
  });

  describe('machines are the Swarm nodes', () => {
    /** A three-node cluster: this engine's manager n1 (eu), a worker n2 (us), a worker n3 (us) that a test may take down. */
    const cluster = () =>
      new FakeSwarm([
        FAKE_NODE,
        { ...FAKE_NODE, id: 'n2', hostname: 'node-2', addr: '10.0.0.2', role: 'worker', labels: { region: 'us', disk: 'ssd' }, self: false },
        { ...FAKE_NODE, id: 'n3', hostname: 'node-3', addr: '10.0.0.3', role: 'worker', labels: { region: 'us' }, self: false },
      ]);
    const pairs = (states: UnitStateRecord[]) => states.map((s) => [s.name, s.machineID, s.systemdActiveState]);

    it('/machines lists the nodes that are not down: node id, address, node labels as metadata', async () => {
      const { engine, machines } = setup(cluster());
      expect(await machines()).toEqual([
        { id: 'n1', primaryIP: '10.0.0.1', metadata: { region: 'eu' } },
        { id: 'n2', primaryIP: '10.0.0.2', metadata: { region: 'us', disk: 'ssd' } },
        { id: 'n3', primaryIP: '10.0.0.3', metadata: { region: 'us' } },
      ]);
      engine.nodes[2]!.state = 'down';
      expect((await machines()).map((m) => m.id)).toEqual(['n1', 'n2']);
    });

    it('a unit is on the node its task runs on, in /units and /state alike; MachineID= and MachineMetadata= name nodes and their labels', async () => {
      const { call, units, states, machines } = setup(cluster());
      await call('PUT', '/fleet/v1/units/ssd.service', { desiredState: 'launched', options: unit('ssd', [x('MachineMetadata', 'disk=ssd')]) });
      await call('PUT', '/fleet/v1/units/pinned.service', { desiredState: 'launched', options: unit('pinned', [x('MachineID', 'n3')]) });
      expect((await units()).map((u) => [u.name, u.currentState, u.machineID])).toEqual([
        ['pinned.service', 'launched', 'n3'],
        ['ssd.service', 'launched', 'n2'],
      ]);
      expect(pairs(await states())).toEqual([
        ['pinned.service', 'n3', 'active'],
        ['ssd.service', 'n2', 'active'],
      ]);
      const ids = (await machines()).map((m) => m.id);
      for (const s of await states()) expect(ids).toContain(s.machineID);
      expect(((await call('GET', '/fleet/v1/state', undefined, 'machineID=n2')).body as { states: UnitStateRecord[] }).states.map((s) => s.name)).toEqual(['ssd.service']);
    });

    it('a unit not scheduled yet has no machine and no state (as in fleet); a loaded one is on the node this daemon talks to', async () => {
      const { call, units, states } = setup(cluster());
      await call('PUT', '/fleet/v1/units/nowhere.service', { desiredState: 'launched', options: unit('nowhere', [x('MachineMetadata', 'region=ap')]) });
      await call('PUT', '/fleet/v1/units/ready.service', { desiredState: 'loaded', options: unit('ready', [x('MachineMetadata', 'region=us')]) });
      const byName = Object.fromEntries((await units()).map((u) => [u.name, u]));
      expect(byName['nowhere.service']).toMatchObject({ currentState: 'loaded', message: expect.stringMatching(/no suitable node/) });
      expect(byName['nowhere.service']!.machineID).toBeUndefined();
      expect(byName['ready.service']).toMatchObject({ currentState: 'loaded', machineID: 'n1' });
      expect(pairs(await states())).toEqual([['ready.service', 'n1', 'inactive']]);
    });

    it('a global unit has no machine of its own and one state per node it runs on; a node that goes down leaves both', async () => {
      const { engine, call, units, states } = setup(cluster());
      await call('PUT', '/fleet/v1/units/agent.service', { desiredState: 'launched', options: unit('agent', [x('Global', 'true'), x('MachineMetadata', 'region=us')]) });
      const [u] = await units();
      expect(u).toMatchObject({ currentState: 'launched' });
      expect(u!.machineID).toBeUndefined();
      expect(pairs(await states())).toEqual([
        ['agent.service', 'n2', 'active'],
        ['agent.service', 'n3', 'active'],
      ]);
      engine.nodes[2]!.state = 'down';
      expect(pairs(await states())).toEqual([['agent.service', 'n2', 'active']]);
    });
  });
});
