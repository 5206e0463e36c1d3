import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handleFleet, unitHash, type DesiredState, type FleetUnit, type Machine, type UnitOption, type UnitRegistry } from './api.js';

/** Declared once per registry, before any case runs (the cases that depend on them are chosen from them). */
export interface RegistryCapabilities {
  /** How units run: `none` (the in-memory registry only records them), containers, or Swarm services. */
  engine: 'none' | 'containers' | 'services';
  /** Whether `validate` refuses a unit the backend cannot run (an ExecStart that is not `docker run`). */
  refusesUnrunnable: boolean;
  /**
   * Cases this registry is known to fail, by key, with the reason: they run as `it.fails` (so they
   * turn red, asking for this entry to go, once the registry is fixed), never skipped.
   */
  knownDivergences?: Partial<Record<DivergenceKey, string>> | undefined;
}

/** Keys of the cases a registry may declare as known divergences. */
export type DivergenceKey = 'stateMachines';

export interface RegistrySubject {
  registry: UnitRegistry;
  /** The one machine /machines must answer: the one the registry was given, or on Swarm the fake's one node. */
  machine: Machine;
  /** The units the engine runs now (required unless the capabilities say `engine: 'none'`). */
  running?: () => Promise<string[]>;
  /** Waits for engine work of changes already answered (the engine registry answers stops first). */
  settle?: () => Promise<void>;
  close?: () => void;
}

const opt = (section: string, name: string, value: string): UnitOption => ({ section, name, value });
/** A unit every backend can run: a `docker run` line (the container named after the unit). */
export const runnable = (tag = '1', extra: UnitOption[] = []): UnitOption[] => [opt('Unit', 'Description', `contract ${tag}`), opt('Service', 'ExecStart', `/usr/bin/docker run repo/app:${tag}`), ...extra];

/**
 * One behavioural contract for every UnitRegistry, as fleet's v1 API defines the registry: the
 * in-memory, engine (containers) and Swarm (services) registries run the same cases, each on a
 * fresh registry, so the HTTP layer (`handleFleet`) can rely on one behaviour whatever backs it.
 */
export function registryContract(name: string, capabilities: RegistryCapabilities, make: () => Promise<RegistrySubject>): void {
  describe(`UnitRegistry contract: ${name}`, () => {
    const run = { s: undefined as unknown as RegistrySubject };
    beforeEach(async () => {
      run.s = await make();
    });
    afterEach(() => run.s.close?.());
    unitCases(run);
    stateCases(run, capabilities);
    listingCases(run);
    backendCases(run, capabilities);
  });
}

type Run = { s: RegistrySubject };
const settled = async (run: Run) => run.s.settle?.();

/** Creating, reading, replacing and destroying units; unknown names. */
function unitCases(run: Run): void {
  it('starts empty: no units, no unit states', async () => {
    expect(await run.s.registry.list()).toEqual([]);
    expect(await run.s.registry.states()).toEqual([]);
  });

  it('creates a unit and gives it back: options verbatim (order, duplicates, sections interleaved, odd characters)', async () => {
    const options = [
      opt('Unit', 'Description', 'héllo "wörld" $HOME %n \'q\' ☃ \\ back'),
      opt('Service', 'Environment', 'A=1'),
      opt('Unit', 'Documentation', ''),
      opt('Service', 'ExecStart', '/usr/bin/docker run -e "B=x y" repo/app:1'),
      opt('Service', 'Environment', 'A=1'),
      opt('X-Fleet', 'Conflicts', 'nothing-like-this*.service'),
      opt('Install', 'WantedBy', 'multi-user.target'),
    ];
    await run.s.registry.put({ name: 'verbatim.service', options: structuredClone(options), desiredState: 'loaded' });
    const u = await run.s.registry.get('verbatim.service');
    expect(u).toMatchObject({ name: 'verbatim.service', desiredState: 'loaded' });
    expect(u!.options).toEqual(options);
    expect((await run.s.registry.list()).map((x) => x.options)).toEqual([options]);
  });

  it('gives copies: changing what get, list and machines return changes nothing stored', async () => {
    await run.s.registry.put({ name: 'copy.service', options: runnable(), desiredState: 'inactive' });
    const u = (await run.s.registry.get('copy.service'))!;
    u.options[0]!.value = 'changed';
    u.options.push(opt('Unit', 'After', 'x.service'));
    u.desiredState = 'launched';
    (await run.s.registry.list())[0]!.options.length = 0;
    (await run.s.registry.machines())[0]!.metadata.changed = 'yes';
    expect(await run.s.registry.get('copy.service')).toMatchObject({ options: runnable(), desiredState: 'inactive' });
    expect(await run.s.registry.machines()).toEqual([run.s.machine]);
  });

  it('new options under the same name replace the unit (options and desired state): still one unit', async () => {
    await run.s.registry.put({ name: 'r.service', options: runnable('1'), desiredState: 'launched' });
    await run.s.registry.put({ name: 'r.service', options: runnable('2'), desiredState: 'loaded' });
    await settled(run);
    const all = await run.s.registry.list();
    expect(all.map((u) => [u.name, u.desiredState, u.currentState])).toEqual([['r.service', 'loaded', 'loaded']]);
    expect(all[0]!.options).toEqual(runnable('2'));
  });

  it('destroys a unit: gone from get, list and states; a second destroy answers false', async () => {
    await run.s.registry.put({ name: 'd.service', options: runnable(), desiredState: 'launched' });
    await run.s.registry.put({ name: 'keep.service', options: runnable(), desiredState: 'loaded' });
    expect(await run.s.registry.remove('d.service')).toBe(true);
    await settled(run);
    expect(await run.s.registry.get('d.service')).toBeUndefined();
    expect((await run.s.registry.list()).map((u) => u.name)).toEqual(['keep.service']);
    expect((await run.s.registry.states()).map((s) => s.name)).toEqual(['keep.service']);
    expect(await run.s.registry.remove('d.service')).toBe(false);
  });

  it('unknown names: get answers undefined, remove false, and a state change creates nothing', async () => {
    expect(await run.s.registry.get('nope.service')).toBeUndefined();
    expect(await run.s.registry.remove('nope.service')).toBe(false);
    for (const state of ['launched', 'loaded', 'inactive'] as const) await run.s.registry.setDesiredState('nope.service', state);
    await settled(run);
    expect(await run.s.registry.list()).toEqual([]);
    expect(await run.s.registry.states()).toEqual([]);
  });
}

/** Where a unit is meant to be and where it is, in fleet's words. */
function expectAt(u: FleetUnit | undefined, state: DesiredState, machine: Machine): void {
  expect(u, 'the unit exists').toBeDefined();
  expect([u!.desiredState, u!.currentState]).toEqual([state, state]);
  // fleet: an inactive unit is scheduled nowhere; a loaded or launched one on a machine.
  expect(u!.machineID).toBe(state === 'inactive' ? undefined : machine.id);
}

/** desiredState transitions and the /state records they leave. */
function stateCases(run: Run, caps: RegistryCapabilities): void {
  it('walks a unit inactive → loaded → launched → loaded → launched → inactive, the current state following', async () => {
    const { registry, machine } = run.s;
    await registry.put({ name: 'walk.service', options: runnable(), desiredState: 'inactive' });
    expectAt(await registry.get('walk.service'), 'inactive', machine);
    for (const state of ['loaded', 'launched', 'loaded', 'launched', 'inactive'] as const) {
      await registry.setDesiredState('walk.service', state);
      await settled(run);
      expectAt(await registry.get('walk.service'), state, machine);
    }
    expect((await registry.get('walk.service'))!.options).toEqual(runnable());
  });

  it('creates units directly in each desired state', async () => {
    for (const state of ['inactive', 'loaded', 'launched'] as const) await run.s.registry.put({ name: `${state}.service`, options: runnable(), desiredState: state });
    for (const state of ['inactive', 'loaded', 'launched'] as const) expectAt(await run.s.registry.get(`${state}.service`), state, run.s.machine);
  });

  it('lists unit states of loaded and launched units only (not inactive ones, not templates), in systemd words', async () => {
    const { registry } = run.s;
    await registry.put({ name: 'up.service', options: runnable(), desiredState: 'launched' });
    await registry.put({ name: 'ready.service', options: runnable(), desiredState: 'loaded' });
    await registry.put({ name: 'off.service', options: runnable(), desiredState: 'inactive' });
    await registry.put({ name: 'tpl@.service', options: runnable(), desiredState: 'inactive' });
    const states = await registry.states();
    expect(states.map((s) => [s.name, s.systemdLoadState, s.systemdActiveState, s.systemdSubState])).toEqual([
      ['ready.service', 'loaded', 'inactive', 'dead'],
      ['up.service', 'loaded', 'active', 'running'],
    ]);
    expect(states.every((s) => s.machineID !== '')).toBe(true);
    expect(states.map((s) => s.hash)).toEqual([unitHash(runnable()), unitHash(runnable())]);
    expect((await registry.get('tpl@.service'))!.currentState).toBe('inactive');
  });

  const known = caps.knownDivergences?.stateMachines;
  (known ? it.fails : it)(`a unit state names the machine its unit reports, one /machines lists${known ? ` (known divergence: ${known})` : ''}`, async () => {
    const { registry } = run.s;
    await registry.put({ name: 'up.service', options: runnable(), desiredState: 'launched' });
    await registry.put({ name: 'ready.service', options: runnable(), desiredState: 'loaded' });
    const machines = (await registry.machines()).map((m) => m.id);
    for (const s of await registry.states()) {
      expect(machines, s.name).toContain(s.machineID);
      expect((await registry.get(s.name))!.machineID, s.name).toBe(s.machineID);
    }
  });

  it('reports fleet’s hash: SHA1 of the unit file (sections in order of first use), stable across reads, new only with new options', async () => {
    const options = [opt('Unit', 'Description', 'h'), opt('Service', 'ExecStart', '/usr/bin/docker run repo/app:1'), opt('Unit', 'After', 'docker.service')];
    const file = '[Unit]\nDescription=h\nAfter=docker.service\n\n[Service]\nExecStart=/usr/bin/docker run repo/app:1\n';
    const fleetHash = createHash('sha1').update(file).digest('hex');
    await run.s.registry.put({ name: 'h.service', options, desiredState: 'launched' });
    const hashes = async () => (await run.s.registry.states()).map((s) => s.hash);
    expect(await hashes()).toEqual([fleetHash]);
    await run.s.registry.setDesiredState('h.service', 'loaded');
    await settled(run);
    expect(await hashes()).toEqual([fleetHash]);
    await run.s.registry.put({ name: 'h.service', options: structuredClone(options), desiredState: 'launched' });
    expect(await hashes()).toEqual([fleetHash]);
    await run.s.registry.put({ name: 'h.service', options: [...options, opt('Unit', 'Wants', 'x.service')], desiredState: 'launched' });
    await settled(run);
    const [changed] = await hashes();
    expect(changed).toMatch(/^[0-9a-f]{40}$/);
    expect(changed).not.toBe(fleetHash);
  });
}

/** fleet lists in Go's string order (bytes: upper case before lower, `-` before `.` before `:` before `@` before `_`). */
const NAMES = ['a_b.service', 'a@1.service', 'Z.service', 'a.service', 'a:1.service', 'B.service', 'a-b.service'];
const BYTE_ORDER = ['B.service', 'Z.service', 'a-b.service', 'a.service', 'a:1.service', 'a@1.service', 'a_b.service'];

function listingCases(run: Run): void {
  it('lists units and unit states by name in byte order (Go’s string order), whatever the order of creation', async () => {
    for (const name of NAMES) await run.s.registry.put({ name, options: runnable(), desiredState: 'launched' });
    expect((await run.s.registry.list()).map((u) => u.name)).toEqual(BYTE_ORDER);
    expect((await run.s.registry.states()).map((s) => s.name)).toEqual(BYTE_ORDER);
  });

  it('answers its one machine: the one it was given, or the one Swarm node', async () => {
    expect(await run.s.registry.machines()).toEqual([run.s.machine]);
  });

  it('serves fleet’s API: PUT 201 then 204, GET, /state, DELETE 204 then 404', async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await handleFleet({ method, path, query: new URLSearchParams(), contentType: 'application/json', body: body === undefined ? undefined : JSON.stringify(body) }, run.s.registry);
      await settled(run);
      return r;
    };
    expect((await call('PUT', '/fleet/v1/units/api.service', { desiredState: 'launched', options: runnable() })).status).toBe(201);
    expect((await call('PUT', '/fleet/v1/units/api.service', { desiredState: 'loaded' })).status).toBe(204);
    expect((await call('GET', '/fleet/v1/units/api.service')).body).toMatchObject({ name: 'api.service', desiredState: 'loaded', currentState: 'loaded', options: runnable() });
    expect((await call('GET', '/fleet/v1/state/api.service')).body).toMatchObject({ name: 'api.service', systemdActiveState: 'inactive', hash: unitHash(runnable()) });
    expect((await call('DELETE', '/fleet/v1/units/api.service')).status).toBe(204);
    expect((await call('GET', '/fleet/v1/units/api.service')).status).toBe(404);
    expect((await call('DELETE', '/fleet/v1/units/api.service')).status).toBe(404);
  });
}

/** What differs by backend, as each registry declares it: every declared capability is asserted, none is skipped. */
function backendCases(run: Run, caps: RegistryCapabilities): void {
  it(`validate: ${caps.refusesUnrunnable ? 'refuses an ExecStart that is not docker run' : 'refuses nothing (declared)'}, and never a docker run line`, async () => {
    const verdict = run.s.registry.validate?.('py.service', [opt('Service', 'ExecStart', '/usr/bin/python3 -m http.server')]);
    if (caps.refusesUnrunnable) expect(verdict).toMatch(/docker run/);
    else expect(verdict).toBeUndefined();
    expect(run.s.registry.validate?.('ok.service', runnable())).toBeUndefined();
  });

  if (caps.engine === 'none') {
    it('has no engine (declared): the current state is the desired one as soon as the change is answered', async () => {
      await run.s.registry.put({ name: 'one.service', options: runnable(), desiredState: 'launched' });
      expect((await run.s.registry.get('one.service'))!.currentState).toBe('launched');
      await run.s.registry.setDesiredState('one.service', 'loaded');
      expect((await run.s.registry.get('one.service'))!.currentState).toBe('loaded');
      expect(run.s.running).toBeUndefined();
    });
    return;
  }

  it(`runs exactly the launched units as ${caps.engine}`, async () => {
    const running = async () => (await run.s.running!()).sort();
    await run.s.registry.put({ name: 'one.service', options: runnable(), desiredState: 'launched' });
    await run.s.registry.put({ name: 'two.service', options: runnable(), desiredState: 'launched' });
    await run.s.registry.put({ name: 'three.service', options: runnable(), desiredState: 'loaded' });
    expect(await running()).toEqual(['one.service', 'two.service']);
    await run.s.registry.setDesiredState('one.service', 'loaded');
    await run.s.registry.setDesiredState('three.service', 'launched');
    await settled(run);
    expect(await running()).toEqual(['three.service', 'two.service']);
    await run.s.registry.remove('two.service');
    await run.s.registry.setDesiredState('three.service', 'inactive');
    await settled(run);
    expect(await running()).toEqual([]);
  });
}
