import { describe, expect, it } from 'vitest';
import { handleFleet, type FleetUnit, type UnitOption, type UnitStateRecord } from './api.js';
import { FakeSwarm } from './fake-swarm.test-support.js';
import { RECORD_IMAGE, serviceName, SwarmRegistry } from './swarm-registry.js';

const svc = (name: string, value: string): UnitOption => ({ section: 'Service', name, value });
const x = (name: string, value: string): UnitOption => ({ section: 'X-Fleet', name, value });
const unit = (name: string, extra: UnitOption[] = []): UnitOption[] => [svc('ExecStartPre', '-/usr/bin/docker rm -f %p-%i'), svc('ExecStart', `/usr/bin/docker run --name ${name} -p 8080:80 repo/app:1`), ...extra];

function setup(engine = new FakeSwarm(), allowAnyExecStart = false) {
  const registry = new SwarmRegistry(engine, { allowAnyExecStart, machine: { id: 'n1', primaryIP: '127.0.0.1', metadata: {} } });
  const call = (method: string, path: string, body?: unknown) =>
    handleFleet({ method, path, query: new URLSearchParams(), contentType: 'application/json', body: body === undefined ? undefined : JSON.stringify(body) }, registry);
  const units = async () => ((await call('GET', '/fleet/v1/units')).body as { units: FleetUnit[] }).units;
  const states = async () => ((await call('GET', '/fleet/v1/state')).body as { states: UnitStateRecord[] }).states;
  const service = (u: string) => [...engine.services.values()].find((s) => s.def.labels['kiboko.units.unit'] === u)?.def;
  return { engine, registry, call, units, states, service };
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
});
