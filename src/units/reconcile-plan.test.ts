import { describe, expect, it } from 'vitest';
import type { ContainerStatus, ContainerSummary } from '../engine/index.js';
import { planReconcile, planUnitStep, type StepContext, type UnitFacts } from './reconcile-plan.js';
import { parseRequirements, type Requirements } from './xfleet.js';

const machine = { id: 'm1', primaryIP: '10.0.0.1', metadata: { region: 'eu' } };
const req = (name: string, xfleet: Record<string, string> = {}): Requirements =>
  parseRequirements(
    name,
    Object.entries(xfleet).map(([k, v]) => ({ section: 'X-Fleet', name: k, value: v })),
  );

const unit = (over: Partial<UnitFacts> = {}): UnitFacts => ({
  name: 'u.service',
  desired: 'launched',
  hash: 'h1',
  error: null,
  waiting: null,
  template: false,
  notRunnable: undefined,
  autoRemove: false,
  requirements: req(over.name ?? 'u.service'),
  peers: new Map(),
  container: undefined,
  ...over,
});
const ctr = (status: ContainerStatus, hash = 'h1') => ({ status, hash });
const ctx = (over: Partial<StepContext> = {}): StepContext => ({ mode: 'periodic', focus: false, machine, launched: [], ...over });

let seq = 0;
const summary = (unitName: string, status: ContainerStatus): ContainerSummary => ({ id: `c${++seq}`, name: `ctr-${seq}`, image: 'repo/app:1', labels: { 'kiboko.units.unit': unitName }, status, created: seq }) as ContainerSummary;

describe('planReconcile: the pass', () => {
  it('removes every container of a unit no longer stored and any beyond the first of a stored one; the first counts', () => {
    const a1 = summary('a.service', 'running');
    const a2 = summary('a.service', 'exited');
    const gone = summary('gone.service', 'running');
    const plan = planReconcile([{ name: 'a.service', requirements: req('a.service') }], new Map([['a.service', [a1, a2]], ['gone.service', [gone]]]));
    expect(plan.leftovers).toEqual(new Map([['a.service', [a2]], ['gone.service', [gone]]]));
    expect(plan.current).toEqual(new Map([['a.service', a1]]));
  });

  it('starts from the units whose container runs (with their Conflicts), and orders MachineOf peers first', () => {
    const desired = [
      { name: 'side.service', requirements: req('side.service', { MachineOf: 'main.service' }) },
      { name: 'main.service', requirements: req('main.service', { Conflicts: 'other*' }) },
      { name: 'stopped.service', requirements: req('stopped.service') },
      { name: 'none.service', requirements: req('none.service') },
    ];
    const plan = planReconcile(desired, new Map([['main.service', [summary('main.service', 'paused')]], ['stopped.service', [summary('stopped.service', 'exited')]]]));
    expect(plan.launched).toEqual([{ name: 'main.service', conflicts: ['other*'] }]);
    expect(plan.order.indexOf('main.service')).toBeLessThan(plan.order.indexOf('side.service'));
    expect([...plan.order].sort()).toEqual(['main.service', 'none.service', 'side.service', 'stopped.service']);
    expect(plan.leftovers.size).toBe(0);
  });
});

describe('planUnitStep: one unit', () => {
  it('templates and units that cannot run keep no container (a template is retired, the other force-removed)', () => {
    expect(planUnitStep(unit({ template: true, desired: 'inactive', container: ctr('running') }), ctx())).toEqual({ kind: 'settle', container: 'retire', drop: false });
    expect(planUnitStep(unit({ template: true, desired: 'inactive' }), ctx())).toEqual({ kind: 'settle', container: undefined, drop: false });
    expect(planUnitStep(unit({ notRunnable: 'not a docker run line', container: ctr('exited') }), ctx({ focus: true }))).toEqual({ kind: 'settle', container: 'remove', drop: false });
  });

  it('inactive: the container goes, the unit leaves the launched ones, a waiting reason is cleared (its error kept)', () => {
    expect(planUnitStep(unit({ desired: 'inactive', container: ctr('exited'), waiting: 'w', error: 'e' }), ctx())).toEqual({ kind: 'settle', container: 'retire', drop: true, record: { error: 'e', waiting: null } });
    expect(planUnitStep(unit({ desired: 'inactive' }), ctx())).toEqual({ kind: 'settle', container: undefined, drop: true, record: undefined });
  });

  it('loaded: a running container is stopped and kept; with docker run --rm it is retired; a stopped one is left', () => {
    expect(planUnitStep(unit({ desired: 'loaded', container: ctr('running') }), ctx())).toMatchObject({ kind: 'settle', container: 'stop', drop: true });
    expect(planUnitStep(unit({ desired: 'loaded', container: ctr('restarting') }), ctx())).toMatchObject({ container: 'stop' });
    expect(planUnitStep(unit({ desired: 'loaded', container: ctr('exited'), autoRemove: true }), ctx())).toMatchObject({ container: 'retire' });
    expect(planUnitStep(unit({ desired: 'loaded', container: ctr('exited') }), ctx())).toMatchObject({ kind: 'settle', container: undefined, drop: true });
  });

  it('launched and running the same unit file: nothing to do but clear what was reported', () => {
    expect(planUnitStep(unit({ container: ctr('running') }), ctx())).toEqual({ kind: 'settle', drop: false, record: undefined });
    expect(planUnitStep(unit({ container: ctr('running'), error: 'old' }), ctx())).toEqual({ kind: 'settle', drop: false, record: { error: null, waiting: null } });
  });

  it('launched with a MachineOf peer that is no longer launched: stopped (retired with --rm), with the reason', () => {
    const u = unit({ requirements: req('u.service', { MachineOf: 'main.service' }), peers: new Map([['main.service', 'loaded']]), container: ctr('running') });
    expect(planUnitStep(u, ctx())).toEqual({ kind: 'settle', container: 'stop', drop: true, record: { error: null, waiting: 'stopped: main.service (MachineOf) is no longer launched' } });
    expect(planUnitStep({ ...u, autoRemove: true, peers: new Map([['main.service', undefined]]) }, ctx())).toMatchObject({ container: 'retire' });
    expect(planUnitStep({ ...u, peers: new Map([['main.service', 'launched']]) }, ctx())).toEqual({ kind: 'settle', drop: false, record: undefined });
  });

  it('launches a unit with no container, one running an old unit file, and one placed here (with placement notes)', () => {
    expect(planUnitStep(unit(), ctx())).toEqual({ kind: 'launch', onlyIfNeverStarted: false, notes: [] });
    expect(planUnitStep(unit({ container: ctr('running', 'old') }), ctx())).toEqual({ kind: 'launch', onlyIfNeverStarted: false, notes: [] });
    expect(planUnitStep(unit({ requirements: req('u.service', { Replaces: 'old.service' }) }), ctx())).toEqual({ kind: 'launch', onlyIfNeverStarted: false, notes: ['Replaces=old.service has no effect on one machine'] });
  });

  it('a failed start or a container that exited on its own is not retried by a periodic pass; a change or a recovery retries it', () => {
    expect(planUnitStep(unit({ error: 'start failed: x' }), ctx())).toEqual({ kind: 'settle', drop: false });
    expect(planUnitStep(unit({ error: 'start failed: x', container: ctr('exited') }), ctx())).toEqual({ kind: 'settle', drop: false });
    expect(planUnitStep(unit({ error: 'start failed: x' }), ctx({ focus: true }))).toMatchObject({ kind: 'launch', onlyIfNeverStarted: false });
    expect(planUnitStep(unit({ error: 'start failed: x', container: ctr('exited') }), ctx({ mode: 'recover' }))).toMatchObject({ kind: 'launch', onlyIfNeverStarted: false });
    // No error on record but a stopped container: launch only if it never ran (the apply asks the engine).
    expect(planUnitStep(unit({ container: ctr('exited') }), ctx())).toEqual({ kind: 'launch', onlyIfNeverStarted: true, notes: [] });
    expect(planUnitStep(unit({ container: ctr('created') }), ctx({ focus: true }))).toMatchObject({ onlyIfNeverStarted: false });
  });

  it('waits when placement refuses: Conflicts with a launched unit, MachineOf a unit not launched, metadata, MachineID', () => {
    const conflicts = unit({ requirements: req('u.service', { Conflicts: 'a*' }) });
    expect(planUnitStep(conflicts, ctx({ launched: [{ name: 'a.service', conflicts: [] }] }))).toEqual({ kind: 'wait', onlyIfNeverStarted: false, container: undefined, reason: 'Conflicts=a* matches launched unit a.service', announce: true });
    // Checked both ways: a launched unit that conflicts with this one.
    expect(planUnitStep(unit(), ctx({ launched: [{ name: 'a.service', conflicts: ['u.*'] }] }))).toMatchObject({ kind: 'wait', reason: 'launched unit a.service conflicts with it (Conflicts=u.*)' });
    expect(planUnitStep(unit({ requirements: req('u.service', { MachineOf: 'main.service' }) }), ctx())).toMatchObject({ kind: 'wait', reason: 'waiting for main.service (MachineOf) to be launched' });
    expect(planUnitStep(unit({ requirements: req('u.service', { MachineMetadata: 'region=us' }) }), ctx())).toMatchObject({ kind: 'wait', reason: expect.stringMatching(/MachineMetadata region=us does not match/) });
    expect(planUnitStep(unit({ requirements: req('u.service', { MachineID: 'm2' }) }), ctx())).toMatchObject({ kind: 'wait', reason: expect.stringMatching(/MachineID=m2 is not this machine/) });
    expect(planUnitStep(unit({ requirements: req('u.service', { MachineMetadata: 'region=eu' }) }), ctx())).toMatchObject({ kind: 'launch' });
  });

  it('a waiting unit that runs is stopped (retired with --rm); the same reason again is not announced again', () => {
    const launched = [{ name: 'a.service', conflicts: [] }];
    const u = unit({ requirements: req('u.service', { Conflicts: 'a*' }), container: ctr('running', 'old') });
    expect(planUnitStep(u, ctx({ launched }))).toMatchObject({ kind: 'wait', container: 'stop', announce: true });
    expect(planUnitStep({ ...u, autoRemove: true }, ctx({ launched }))).toMatchObject({ container: 'retire' });
    const again = { ...u, container: undefined, waiting: 'Conflicts=a* matches launched unit a.service' };
    expect(planUnitStep(again, ctx({ launched }))).toMatchObject({ kind: 'wait', container: undefined, announce: false });
    expect(planUnitStep({ ...again, error: 'stop failed: x' }, ctx({ launched, focus: true }))).toMatchObject({ announce: true });
  });
});
