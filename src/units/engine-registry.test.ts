import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { FakeEngine } from '../engine/index.js';
import { handleFleet, type FleetUnit, type UnitOption, type UnitStateRecord } from './api.js';
import { EngineRegistry, type UnitsRegistryOptions } from './engine-registry.js';

const dirs: string[] = [];
const registries: EngineRegistry[] = [];
afterEach(() => {
  for (const r of registries.splice(0)) r.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const machine = { id: 'm1', primaryIP: '10.0.0.1', metadata: { region: 'eu' } };
function setup(options: UnitsRegistryOptions = {}, engine = new FakeEngine(), dir?: string) {
  const stateDir = dir ?? mkdtempSync(join(tmpdir(), 'kiboko-units-'));
  if (!dir) dirs.push(stateDir);
  const registry = new EngineRegistry(engine, stateDir, { machine, ...options });
  registries.push(registry);
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await handleFleet({ method, path, query: new URLSearchParams(), contentType: 'application/json', body: body === undefined ? undefined : JSON.stringify(body) }, registry);
    await registry.settled(); // stops and destroys are answered first, done after (see the test of that below)
    return r;
  };
  const units = async () => ((await call('GET', '/fleet/v1/units')).body as { units: FleetUnit[] }).units;
  const states = async () => ((await call('GET', '/fleet/v1/state')).body as { states: UnitStateRecord[] }).states;
  const running = async () => (await engine.list()).map((c) => c.name).sort();
  return { engine, registry, stateDir, call, units, states, running };
}

const svc = (name: string, value: string): UnitOption => ({ section: 'Service', name, value });
const x = (name: string, value: string): UnitOption => ({ section: 'X-Fleet', name, value });
const fleetUnit = (version: string, extra: UnitOption[] = []): UnitOption[] => [
  { section: 'Unit', name: 'Description', value: `app ${version} %i` },
  svc('ExecStartPre', '-/usr/bin/docker kill %p-%i'),
  svc('ExecStartPre', '-/usr/bin/docker rm %p-%i'),
  svc('ExecStart', `/usr/bin/docker run --name %p-%i -e VERSION=${version} repo/app:${version}`),
  svc('ExecStop', '/usr/bin/docker stop %p-%i'),
  ...extra,
];
const plain = (name: string, extra: UnitOption[] = []): UnitOption[] => [svc('ExecStart', `/usr/bin/docker run --name ${name} repo/app:1`), ...extra];

describe('EngineRegistry: fleet units as containers', () => {
  it('runs the classic fleet flow: ExecStartPre/ExecStart in order, scale a new version, delete the old one by prefix', async () => {
    const { engine, call, units, running } = setup();
    for (const i of [1, 2]) expect((await call('PUT', `/fleet/v1/units/app:1.0.0@${i}.service`, { desiredState: 'launched', options: fleetUnit('1.0.0') })).status).toBe(201);
    expect((await units()).map((u) => [u.name, u.currentState, u.machineID])).toEqual([
      ['app:1.0.0@1.service', 'launched', 'm1'],
      ['app:1.0.0@2.service', 'launched', 'm1'],
    ]);
    expect(await running()).toEqual(['app-1.0.0-1', 'app-1.0.0-2']);
    // The ExecStartPre lines ran (and failed, ignored) before the container was created and started.
    const first = engine.calls.filter((c) => ['kill', 'remove', 'create', 'start'].includes(c.op) && (c.id.startsWith('app-1.0.0-1') || c.op === 'start')).map((c) => c.op);
    expect(first.slice(0, 4)).toEqual(['kill', 'remove', 'create', 'start']);

    for (const i of [1, 2]) expect((await call('PUT', `/fleet/v1/units/app:2.0.0@${i}.service`, { desiredState: 'launched', options: fleetUnit('2.0.0') })).status).toBe(201);
    for (const u of (await units()).filter((u) => u.name.startsWith('app:1.0.0'))) expect((await call('DELETE', `/fleet/v1/units/${u.name}`)).status).toBe(204);
    expect(await running()).toEqual(['app-2.0.0-1', 'app-2.0.0-2']);
    expect((await engine.list({ all: true })).map((c) => c.name).sort()).toEqual(['app-2.0.0-1', 'app-2.0.0-2']);
    // ExecStop ran against the old containers before they were removed.
    expect(engine.calls.some((c) => c.op === 'stop' && c.id === 'app-1.0.0-1')).toBe(true);
  });

  it('a state change runs ExecStop (loaded), then ExecStartPre again (launched); inactive removes the container', async () => {
    const { engine, call, units, running } = setup();
    await call('PUT', '/fleet/v1/units/app@1.service', { desiredState: 'launched', options: fleetUnit('1') });
    expect((await call('PUT', '/fleet/v1/units/app@1.service', { desiredState: 'loaded' })).status).toBe(204);
    expect((await units())[0]).toMatchObject({ desiredState: 'loaded', currentState: 'loaded' });
    expect(await running()).toEqual([]);
    const before = engine.calls.length;
    await call('PUT', '/fleet/v1/units/app@1.service', { desiredState: 'launched' });
    expect(engine.calls.slice(before).filter((c) => c.op !== 'list' && c.op !== 'inspect').map((c) => c.op)).toEqual(['kill', 'remove', 'create', 'start']);
    await call('PUT', '/fleet/v1/units/app@1.service', { desiredState: 'inactive' });
    expect(await engine.list({ all: true })).toEqual([]);
    expect((await units())[0]).toMatchObject({ desiredState: 'inactive', currentState: 'inactive' });
  });

  it('a failed ExecStartPre fails the start, visibly; the periodic pass leaves it, recovery and a new PUT retry it', async () => {
    const { engine, call, units, states, registry } = setup();
    const options = [svc('ExecStartPre', '/usr/bin/docker rm nothing-here'), svc('ExecStart', '/usr/bin/docker run --name f1 repo/app:1')];
    expect((await call('PUT', '/fleet/v1/units/f.service', { desiredState: 'launched', options })).status).toBe(201);
    expect((await units())[0]).toMatchObject({ currentState: 'loaded', message: expect.stringMatching(/start failed: ExecStartPre=\/usr\/bin\/docker rm nothing-here failed: .*No such container/) });
    expect((await states())[0]).toMatchObject({ name: 'f.service', systemdActiveState: 'failed', systemdSubState: 'failed' });
    expect(registry.errorOf('f.service')).toMatch(/start failed/);
    const removes = () => engine.calls.filter((c) => c.op === 'remove' && c.id === 'nothing-here').length;
    await registry.reconcileAll('periodic');
    expect(removes()).toBe(1);
    await registry.reconcileAll('recover');
    expect(removes()).toBe(2);
    engine.add({ name: 'nothing-here', status: 'exited' });
    await call('PUT', '/fleet/v1/units/f.service', { desiredState: 'launched' });
    expect((await units())[0]).toMatchObject({ currentState: 'launched' });
    expect((await units())[0]!.message).toBeUndefined();
  });

  it('a container that exits on its own is shown failed and not restarted in a loop; recovery relaunches it', async () => {
    const engine = new FakeEngine();
    engine.staysUp = () => false;
    const { call, states, registry } = setup({}, engine);
    await call('PUT', '/fleet/v1/units/crash.service', { desiredState: 'launched', options: plain('crash') });
    expect((await states())[0]).toMatchObject({ systemdActiveState: 'failed', message: 'the container exited with code 1' });
    const starts = () => engine.calls.filter((c) => c.op === 'start').length;
    await registry.reconcileAll();
    expect(starts()).toBe(1);
    await registry.reconcileAll('recover');
    expect(starts()).toBe(2);
  });

  it('refuses a non-docker ExecStart with a 400, unless allowed: then it is stored and shown inactive/failed with the reason', async () => {
    const options = [svc('ExecStart', '/usr/bin/python3 -m http.server')];
    const strict = setup();
    const r = await strict.call('PUT', '/fleet/v1/units/py.service', { desiredState: 'launched', options });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toMatch(/not a docker run line/);
    const unknownPre = await strict.call('PUT', '/fleet/v1/units/pre.service', { desiredState: 'launched', options: [svc('ExecStartPre', '/usr/bin/etcdctl set /a 1'), ...plain('pre')] });
    expect(unknownPre.status).toBe(400);
    expect(JSON.stringify(unknownPre.body)).toMatch(/ExecStartPre=\/usr\/bin\/etcdctl set \/a 1/);

    const lax = setup({ allowAnyExecStart: true });
    expect((await lax.call('PUT', '/fleet/v1/units/py.service', { desiredState: 'launched', options })).status).toBe(201);
    expect((await lax.units())[0]).toMatchObject({ desiredState: 'launched', currentState: 'inactive', message: expect.stringMatching(/^not runnable: .*not a docker run line/) });
    expect((await lax.states())[0]).toMatchObject({ systemdActiveState: 'failed', systemdSubState: 'failed' });
    expect(await lax.engine.list({ all: true })).toEqual([]);
  });

  it('stores templates (inactive only) and makes instances from them, %i expanded per instance', async () => {
    const { engine, call, units, running } = setup();
    expect((await call('PUT', '/fleet/v1/units/app@.service', { desiredState: 'launched', options: fleetUnit('1') })).status).toBe(400);
    expect((await call('PUT', '/fleet/v1/units/app@.service', { desiredState: 'inactive', options: fleetUnit('1') })).status).toBe(201);
    for (const i of [1, 2]) expect((await call('PUT', `/fleet/v1/units/app@${i}.service`, { desiredState: 'launched' })).status).toBe(201);
    expect(await running()).toEqual(['app-1', 'app-2']);
    const list = await units();
    expect(list.map((u) => [u.name, u.currentState])).toEqual([
      ['app@.service', 'inactive'],
      ['app@1.service', 'launched'],
      ['app@2.service', 'launched'],
    ]);
    expect(list[1]!.options).toEqual(fleetUnit('1'));
    // Without a template, an instance without options is still fleet's 409.
    expect((await call('PUT', '/fleet/v1/units/other@1.service', { desiredState: 'launched' })).status).toBe(409);
    expect(engine.calls.filter((c) => c.op === 'create')).toHaveLength(2);
  });

  it('new options under the same name replace the container (ExecStop of the old one first)', async () => {
    const { engine, call, running } = setup();
    await call('PUT', '/fleet/v1/units/app@1.service', { desiredState: 'launched', options: fleetUnit('1') });
    const [old] = await engine.list();
    expect((await call('PUT', '/fleet/v1/units/app@1.service', { desiredState: 'launched', options: fleetUnit('2') })).status).toBe(201);
    const [now] = await engine.list();
    expect(await running()).toEqual(['app-1']);
    expect(now!.id).not.toBe(old!.id);
    expect((await engine.inspect(now!.id)).labels['kiboko.units.hash']).not.toBe(old!.labels['kiboko.units.hash']);
  });

  it('Conflicts: a conflicting unit stays loaded with the reason, and launches once the other is gone', async () => {
    const { call, units, running } = setup();
    await call('PUT', '/fleet/v1/units/a.service', { desiredState: 'launched', options: plain('ctr-a') });
    expect((await call('PUT', '/fleet/v1/units/b.service', { desiredState: 'launched', options: plain('ctr-b', [x('Conflicts', 'a*')]) })).status).toBe(201);
    expect((await units()).find((u) => u.name === 'b.service')).toMatchObject({ currentState: 'loaded', message: 'Conflicts=a* matches launched unit a.service' });
    await call('PUT', '/fleet/v1/units/c.service', { desiredState: 'launched', options: plain('ctr-c', [x('Conflicts', 'z*')]) });
    expect(await running()).toEqual(['ctr-a', 'ctr-c']);
    expect((await call('DELETE', '/fleet/v1/units/a.service')).status).toBe(204);
    expect(await running()).toEqual(['ctr-b', 'ctr-c']);
    expect((await units()).find((u) => u.name === 'b.service')!.message).toBeUndefined();
  });

  it('MachineOf: a follower waits for its peer, launches with it, and stops when the peer is stopped', async () => {
    const { call, units, running } = setup();
    await call('PUT', '/fleet/v1/units/side@1.service', { desiredState: 'launched', options: plain('side-1', [x('MachineOf', 'main@%i.service')]) });
    expect((await units())[0]).toMatchObject({ currentState: 'loaded', message: 'waiting for main@1.service (MachineOf) to be launched' });
    await call('PUT', '/fleet/v1/units/main@1.service', { desiredState: 'launched', options: plain('main-1') });
    expect(await running()).toEqual(['main-1', 'side-1']);
    await call('PUT', '/fleet/v1/units/main@1.service', { desiredState: 'loaded' });
    expect(await running()).toEqual([]);
    expect((await units()).find((u) => u.name === 'side@1.service')!.message).toMatch(/MachineOf/);
  });

  it('MachineMetadata is matched against the daemon metadata; Global runs once here', async () => {
    const { call, units, running, states } = setup();
    await call('PUT', '/fleet/v1/units/us.service', { desiredState: 'launched', options: plain('us', [x('MachineMetadata', 'region=us')]) });
    await call('PUT', '/fleet/v1/units/eu.service', { desiredState: 'launched', options: plain('eu', [x('MachineMetadata', 'region=us'), x('MachineMetadata', 'region=eu')]) });
    await call('PUT', '/fleet/v1/units/g.service', { desiredState: 'launched', options: plain('ctr-g', [x('Global', 'true')]) });
    expect(await running()).toEqual(['ctr-g', 'eu']);
    expect((await units()).find((u) => u.name === 'us.service')).toMatchObject({ currentState: 'loaded', message: expect.stringMatching(/MachineMetadata region=us does not match this machine \(metadata: region=eu\)/) });
    expect((await states()).find((s) => s.name === 'us.service')).toMatchObject({ systemdActiveState: 'inactive', systemdSubState: 'dead', message: expect.stringMatching(/MachineMetadata/) });
    expect(((await call('GET', '/fleet/v1/machines')).body as { machines: unknown[] }).machines).toEqual([machine]);
    expect((await call('PUT', '/fleet/v1/units/bad.service', { desiredState: 'launched', options: plain('bad', [x('Bogus', '1')]) })).status).toBe(400);
  });

  it('after a daemon restart (same state directory) launched units stay launched and nothing is duplicated', async () => {
    const first = setup();
    for (const i of [1, 2]) await first.call('PUT', `/fleet/v1/units/app@${i}.service`, { desiredState: 'launched', options: fleetUnit('1') });
    const ids = (await first.engine.list()).map((c) => c.id).sort();
    const second = setup({}, first.engine, first.stateDir);
    await second.registry.reconcileAll('recover');
    expect((await first.engine.list({ all: true })).map((c) => c.id).sort()).toEqual(ids);
    expect((await second.units()).map((u) => u.currentState)).toEqual(['launched', 'launched']);
    // Containers stopped while the daemon was away (an engine restart) are launched again, once.
    for (const id of ids) await first.engine.stop(id, 0);
    const third = setup({}, first.engine, first.stateDir);
    await third.registry.reconcileAll('recover');
    expect((await first.engine.list()).map((c) => c.name).sort()).toEqual(['app-1', 'app-2']);
    expect(await first.engine.list({ all: true })).toHaveLength(2);
  });

  it('two daemons on one engine never touch each other’s unit containers; a taken name is a visible failure', async () => {
    const a = setup();
    await a.call('PUT', '/fleet/v1/units/web.service', { desiredState: 'launched', options: [svc('ExecStartPre', '-/usr/bin/docker rm -f web'), ...plain('web')] });
    const b = setup({}, a.engine);
    await b.call('PUT', '/fleet/v1/units/web.service', { desiredState: 'launched', options: [svc('ExecStartPre', '-/usr/bin/docker rm -f web'), ...plain('web')] });
    await b.registry.reconcileAll('recover');
    expect(await a.running()).toEqual(['web']);
    expect((await b.units())[0]).toMatchObject({ currentState: 'loaded', message: expect.stringMatching(/the container name web is taken by unit web.service \(of another kiboko daemon\)/) });
    expect((await a.units())[0]).toMatchObject({ currentState: 'launched' });
  });

  it('stop and destroy are answered once recorded, as fleet does; /state shows the stop in progress; the engine work follows', async () => {
    // \`running\` reads the engine directly, so it does not wait.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    class SlowStop extends FakeEngine {
      override async stop(id: string, timeoutSeconds: number): Promise<void> {
        await gate;
        return super.stop(id, timeoutSeconds);
      }
    }
    const { engine, registry, call, units, states, running } = setup({}, new SlowStop());
    await call('PUT', '/fleet/v1/units/a.service', { desiredState: 'launched', options: plain('ctr-a') });
    await call('PUT', '/fleet/v1/units/b.service', { desiredState: 'launched', options: plain('ctr-b') });
    const raw = (method: string, path: string, body?: unknown) =>
      handleFleet({ method, path, query: new URLSearchParams(), contentType: 'application/json', body: body === undefined ? undefined : JSON.stringify(body) }, registry);
    // Both answered while `docker stop` has not returned.
    expect((await raw('PUT', '/fleet/v1/units/a.service', { desiredState: 'loaded' })).status).toBe(204);
    expect((await raw('DELETE', '/fleet/v1/units/b.service')).status).toBe(204);
    // (read without waiting for the engine work: the test helper's GETs wait for it)
    expect(((await raw('GET', '/fleet/v1/units')).body as { units: FleetUnit[] }).units.map((u) => [u.name, u.desiredState, u.currentState])).toEqual([['a.service', 'loaded', 'launched']]);
    expect(((await raw('GET', '/fleet/v1/state')).body as { states: UnitStateRecord[] }).states.map((s) => [s.name, s.systemdActiveState, s.systemdSubState])).toEqual([
      ['a.service', 'deactivating', 'stop-sigterm'],
      ['b.service', 'deactivating', 'stop-sigterm'],
    ]);
    expect(await running()).toEqual(['ctr-a', 'ctr-b']);
    release();
    await registry.settled();
    expect(await running()).toEqual([]);
    expect((await engine.list({ all: true })).map((c) => c.name)).toEqual(['ctr-a']); // loaded keeps its stopped container; destroy removed b's
    expect((await states()).map((s) => [s.name, s.systemdActiveState])).toEqual([['a.service', 'inactive']]);
    expect((await units())[0]).toMatchObject({ desiredState: 'loaded', currentState: 'loaded' });
  });

  it('docker run --rm: a stopped unit leaves no container; started again, a new one', async () => {
    const { engine, call, units, running } = setup();
    const options = [svc('ExecStart', '/usr/bin/docker run --rm --name tmp repo/app:1')];
    await call('PUT', '/fleet/v1/units/tmp.service', { desiredState: 'launched', options });
    expect(await running()).toEqual(['tmp']);
    await call('PUT', '/fleet/v1/units/tmp.service', { desiredState: 'loaded' });
    expect(await engine.list({ all: true })).toEqual([]);
    expect((await units())[0]).toMatchObject({ desiredState: 'loaded', currentState: 'loaded' });
    await call('PUT', '/fleet/v1/units/tmp.service', { desiredState: 'launched' });
    expect(await running()).toEqual(['tmp']);
    // --rm=false is docker's default: the stopped container stays.
    await call('PUT', '/fleet/v1/units/keep.service', { desiredState: 'launched', options: [svc('ExecStart', '/usr/bin/docker run --rm=false --name keep repo/app:1')] });
    await call('PUT', '/fleet/v1/units/keep.service', { desiredState: 'loaded' });
    expect((await engine.list({ all: true })).find((c) => c.name === 'keep')).toMatchObject({ status: 'exited' });
  });

  it('keeps the API up while the engine is away: a PUT is stored (201) and launched once the engine is back', async () => {
    const { engine, call, units, states, registry } = setup();
    engine.unreachable = true;
    expect((await call('PUT', '/fleet/v1/units/app@1.service', { desiredState: 'launched', options: fleetUnit('1') })).status).toBe(201);
    const [u] = await units();
    expect(u).toMatchObject({ name: 'app@1.service', desiredState: 'launched' });
    expect(u!.currentState).toBeUndefined();
    await expect(states()).rejects.toThrow(KibokoError);
    engine.unreachable = false;
    await registry.reconcileAll('recover');
    expect((await units())[0]).toMatchObject({ currentState: 'launched' });
  });
});

describe('EngineRegistry: one lock per unit', () => {
  it('a unit whose image pull hangs holds up neither an unrelated PUT nor the periodic pass; its own next change waits for it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // The fake creates containers of any image; a create of the tarpit's image hangs as a pull would.
    class StallingEngine extends FakeEngine {
      override async create(spec: Parameters<FakeEngine['create']>[0]) {
        if (spec.image.startsWith('tarpit.local/')) await gate;
        return super.create(spec);
      }
    }
    const engine = new StallingEngine();
    engine.addImage({ tags: ['repo/app:1'] });
    const { call, running, registry } = setup({}, engine);
    const stalled = call('PUT', '/fleet/v1/units/slow.service', { desiredState: 'launched', options: [svc('ExecStart', '/usr/bin/docker run --name slow tarpit.local/x:1')] });
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    expect((await call('PUT', '/fleet/v1/units/web.service', { desiredState: 'launched', options: plain('web') })).status).toBe(201);
    await registry.reconcileAll('periodic');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await running()).toEqual(['web']);
    let secondDone = false;
    const second = call('PUT', '/fleet/v1/units/slow.service', { desiredState: 'inactive', options: [svc('ExecStart', '/usr/bin/docker run --name slow tarpit.local/x:1')] }).then((r) => ((secondDone = true), r));
    await new Promise((r) => setTimeout(r, 50));
    expect(secondDone).toBe(false); // the same unit: serialized behind the stalled start
    release();
    expect((await stalled).status).toBe(201);
    expect([200, 201, 204]).toContain((await second).status);
    expect(await running()).toEqual(['web']);
  });
});

describe('units: host access policy', () => {
  const bind = (spec: string) => [svc('ExecStart', `/usr/bin/docker run --name box ${spec} repo/app:1`)];

  it('refuses host bind mounts (/, the engine socket) unless allowed; named volumes are fine', async () => {
    const { call } = setup();
    for (const spec of ['-v /:/host', '-v /var/run/docker.sock:/var/run/docker.sock', '--mount type=bind,source=/etc,target=/e']) {
      const r = await call('PUT', '/fleet/v1/units/b.service', { desiredState: 'launched', options: bind(spec) });
      expect(r.status, spec).toBe(400);
      expect(JSON.stringify(r.body)).toMatch(/bind mount of host path .* is refused.*--allow-host-mounts/);
    }
    expect((await call('PUT', '/fleet/v1/units/b.service', { desiredState: 'inactive', options: bind('-v data:/data') })).status).toBe(201);
  });

  it('--allow-host-mounts: any path, or only those listed (and below them)', async () => {
    const any = setup({ hostMounts: true });
    expect((await any.call('PUT', '/fleet/v1/units/b.service', { desiredState: 'inactive', options: bind('-v /:/host') })).status).toBe(201);
    const some = setup({ hostMounts: ['/srv/data'] });
    expect((await some.call('PUT', '/fleet/v1/units/b.service', { desiredState: 'inactive', options: bind('-v /srv/data/app:/d') })).status).toBe(201);
    for (const spec of ['-v /srv/database:/d', '-v /srv/data/../../etc:/d', '-v /:/h']) expect((await some.call('PUT', '/fleet/v1/units/c.service', { desiredState: 'inactive', options: bind(spec) })).status, spec).toBe(400);
  });

  it('--env-file / --label-file in a unit are refused without reading anything; the 400 says what to do and reveals no path', async () => {
    const { call } = setup();
    for (const spec of ['--env-file /etc/passwd', '--env-file ./serve.token', '--label-file /nonexistent/x', '--env-file=/etc/hostname']) {
      const r = await call('PUT', '/fleet/v1/units/e.service', { desiredState: 'launched', options: bind(spec) });
      expect(r.status, spec).toBe(400);
      const text = JSON.stringify(r.body);
      expect(text).toMatch(/--env-file and --label-file cannot be used in a unit.*Environment=KEY=value/);
      expect(text).not.toMatch(/root:|exists|No such file|ENOENT|serve\.token|passwd|nonexistent|hostname/);
    }
  });
});
