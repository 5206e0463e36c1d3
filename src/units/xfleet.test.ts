import { describe, expect, it } from 'vitest';
import type { Machine, UnitOption } from './api.js';
import { globMatch, parseMultivalueLine, parseRequirements, placeOnMachine, placementOrder, swarmPlacement, unitPrintf } from './xfleet.js';

const x = (name: string, value: string): UnitOption => ({ section: 'X-Fleet', name, value });
const machine: Machine = { id: 'm1', primaryIP: '10.0.0.1', metadata: { region: 'eu', disk: 'ssd' } };

describe('[X-Fleet] parsing, as fleet parses it', () => {
  it('splits quoted multi-value lines only when the whole value is quoted', () => {
    expect(parseMultivalueLine('"region=us-east-1" "diskType=SSD"')).toEqual(['region=us-east-1', 'diskType=SSD']);
    expect(parseMultivalueLine('region=us-east-1')).toEqual(['region=us-east-1']);
    expect(parseMultivalueLine('a b')).toEqual(['a b']);
  });

  it('replaces %n %N %p %i as fleet does', () => {
    expect(unitPrintf('%p.socket %i %n %N', 'app:2.0.0@1.service')).toBe('app:2.0.0.socket 1 app:2.0.0@1.service app:2.0.0@1');
    expect(unitPrintf('%p-%i', 'web.service')).toBe('web-');
  });

  it('ignores [X-Fleet] names that are object properties (constructor, __proto__), as any unknown name', () => {
    expect(parseRequirements('a.service', [x('constructor', 'x'), x('__proto__', 'y'), x('toString', 'z')])).toEqual(parseRequirements('a.service', []));
  });

  it('reads every option, deprecated spellings included; metadata keys AND, values of one key OR', () => {
    const r = parseRequirements('app@2.service', [
      x('Conflicts', 'app@*.service'),
      x('X-Conflicts', 'db.service'),
      x('MachineOf', '%p-sidekick@%i.service'),
      x('MachineMetadata', '"region=eu" "disk=ssd"'),
      x('X-ConditionMachineMetadata', 'region=us'),
      x('MachineMetadata', 'broken'),
      x('Global', 'false'),
      x('Global', 'yes'),
      { section: 'Service', name: 'Conflicts', value: 'ignored' },
    ]);
    expect(r.conflicts).toEqual(['app@*.service', 'db.service']);
    expect(r.machineOf).toEqual(['app-sidekick@2.service']);
    expect([...r.metadata].map(([k, v]) => [k, [...v]])).toEqual([
      ['region', ['eu', 'us']],
      ['disk', ['ssd']],
    ]);
    expect(r.global).toBe(true);
  });

  it("matches Conflicts globs with Go's path.Match rules", () => {
    expect(globMatch('app@*.service', 'app@1.service')).toBe(true);
    expect(globMatch('app@*.service', 'app@.service')).toBe(true);
    expect(globMatch('app@?.service', 'app@12.service')).toBe(false);
    expect(globMatch('app@[0-9].service', 'app@7.service')).toBe(true);
    expect(globMatch('app@[^0-9].service', 'app@7.service')).toBe(false);
    expect(globMatch('app:1.0.0*', 'app:1.0.0@1.service')).toBe(true);
    expect(globMatch('app.service', 'appxservice')).toBe(false);
    expect(globMatch('a\\*b', 'a*b')).toBe(true);
    expect(globMatch('a[', 'a[')).toBe(false); // bad pattern: matches nothing
  });
});

describe('placement on one machine', () => {
  const req = (options: UnitOption[], name = 'b.service') => parseRequirements(name, options);

  it('refuses a unit whose Conflicts glob matches a launched unit, and the reverse', () => {
    expect(placeOnMachine('b.service', req([x('Conflicts', 'a*')]), machine, [{ name: 'a.service', conflicts: [] }])).toEqual({ ok: false, reason: 'Conflicts=a* matches launched unit a.service' });
    expect(placeOnMachine('b.service', req([]), machine, [{ name: 'a.service', conflicts: ['b.*'] }])).toEqual({ ok: false, reason: 'launched unit a.service conflicts with it (Conflicts=b.*)' });
    expect(placeOnMachine('b.service', req([x('Conflicts', 'b*')]), machine, [{ name: 'b.service', conflicts: ['b*'] }]).ok).toBe(true);
  });

  it('matches MachineMetadata against the machine, MachineID against its id, and waits for MachineOf peers', () => {
    expect(placeOnMachine('b.service', req([x('MachineMetadata', 'region=eu'), x('MachineMetadata', 'region=us')]), machine, []).ok).toBe(true);
    const miss = placeOnMachine('b.service', req([x('MachineMetadata', 'region=us')]), machine, []);
    expect(miss).toEqual({ ok: false, reason: 'MachineMetadata region=us does not match this machine (metadata: region=eu,disk=ssd)' });
    expect(placeOnMachine('b.service', req([x('MachineMetadata', '"region=eu" "disk=hdd"')]), machine, []).ok).toBe(false);
    expect(placeOnMachine('b.service', req([x('MachineID', 'other')]), machine, [])).toMatchObject({ ok: false, reason: expect.stringMatching(/MachineID=other/) });
    expect(placeOnMachine('b.service', req([x('MachineOf', 'a.service')]), machine, [])).toEqual({ ok: false, reason: 'waiting for a.service (MachineOf) to be launched' });
    expect(placeOnMachine('b.service', req([x('MachineOf', 'a.service')]), machine, [{ name: 'a.service', conflicts: [] }]).ok).toBe(true);
    expect(placeOnMachine('b.service', req([x('Global', 'true')]), machine, [])).toEqual({ ok: true, notes: [] });
    expect(placeOnMachine('b.service', req([x('Replaces', 'a.service')]), machine, [])).toEqual({ ok: true, notes: ['Replaces=a.service has no effect on one machine'] });
  });

  it('orders MachineOf peers before their followers', () => {
    const order = placementOrder([
      { name: 'c', machineOf: ['b'] },
      { name: 'b', machineOf: ['a'] },
      { name: 'a', machineOf: [] },
      { name: 'loop1', machineOf: ['loop2'] },
      { name: 'loop2', machineOf: ['loop1'] },
    ]);
    expect(order.map((u) => u.name)).toEqual(['a', 'b', 'c', 'loop2', 'loop1']);
  });
});

describe('placement on Swarm', () => {
  it('maps metadata, MachineID, MachineOf and Conflicts to constraints and Global to mode global', () => {
    const nodes: Record<string, string[]> = { 'a.service': ['n1'], 'db.service': ['n2'] };
    const p = swarmPlacement(
      'b.service',
      parseRequirements('b.service', [x('MachineMetadata', 'region=eu'), x('MachineOf', 'a.service'), x('Conflicts', 'db*'), x('Global', 'true')]),
      (u) => nodes[u],
      [
        { name: 'a.service', conflicts: [] },
        { name: 'db.service', conflicts: [] },
      ],
    );
    expect(p).toEqual({ constraints: ['node.labels.region==eu', 'node.id==n1', 'node.id!=n2'], global: true, notes: [] });
    expect(swarmPlacement('b.service', parseRequirements('b.service', [x('MachineMetadata', 'region=eu'), x('MachineMetadata', 'region=us')]), () => [], []).blocked).toMatch(/any of/);
    expect(swarmPlacement('b.service', parseRequirements('b.service', [x('MachineOf', 'a.service')]), () => [], []).blocked).toBe('waiting for a.service (MachineOf) to be launched');
  });
});
