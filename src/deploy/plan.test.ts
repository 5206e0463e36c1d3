import { describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import type { ContainerStatus } from '../engine/index.js';
import { configHash, containerConfig } from './hash.js';
import { DEFAULT_UPDATE, newService, type DependsCondition, type ServiceSpec, type SystemConfig } from './model.js';
import type { ObservedReplica } from './observe.js';
import { dependencyOrder, planDeploy } from './plan.js';

function svc(name: string, over: Partial<ServiceSpec> = {}): ServiceSpec {
  return newService(name, `repo/${name}:1`, over);
}

const deps = (...names: string[]): ServiceSpec['dependsOn'] => names.map((service) => ({ service, condition: 'service_started' as DependsCondition }));

const system = (...services: ServiceSpec[]): SystemConfig => ({ project: 'p', services, networks: [], volumes: [], sources: [] });

let ids = 0;
/** Replicas of `s` in slots 1..count, as observe would report them. */
function running(s: ServiceSpec, count = s.replicas, status: ContainerStatus = 'running'): ObservedReplica[] {
  return Array.from({ length: count }, (_, i) => replica(s, i + 1, status));
}

function replica(s: ServiceSpec, slot: number, status: ContainerStatus = 'running', withConfig = true): ObservedReplica {
  const cfg = containerConfig(s);
  return { id: `id${++ids}`, name: `p-${s.name}-${slot}`, service: s.name, slot, hash: configHash(cfg), config: withConfig ? cfg : undefined, status, revision: 1 };
}

const step = (plan: ReturnType<typeof planDeploy>, service: string) => plan.steps.find((s) => s.service === service)!;

describe('planDeploy', () => {
  it('creates services that have no replicas', () => {
    const web = svc('web', { replicas: 3 });
    const plan = planDeploy(system(web), []);
    expect(plan.steps).toEqual([{ service: 'web', action: 'create', causes: ['new service'], replicas: { from: 0, to: 3 }, image: { from: undefined, to: 'repo/web:1' } }]);
    expect(plan.changes).toBe(true);
    expect(plan.project).toBe('p');
  });

  it('leaves services whose replicas all run the same config unchanged', () => {
    const web = svc('web', { replicas: 2 });
    const plan = planDeploy(system(web), running(web));
    expect(step(plan, 'web')).toMatchObject({ action: 'unchanged', causes: [], replicas: { from: 2, to: 2 }, image: { from: 'repo/web:1', to: 'repo/web:1' } });
    expect(plan.changes).toBe(false);
  });

  it('counts a restarting replica as running', () => {
    const web = svc('web');
    expect(step(planDeploy(system(web), running(web, 1, 'restarting')), 'web').action).toBe('unchanged');
  });

  it('updates a changed service, with causes taken from the stored config', () => {
    const old = svc('web', { replicas: 2, environment: { KEEP: '1', GONE: 'x', CHG: 'a' } });
    const now = svc('web', { replicas: 2, image: 'repo/web:2', environment: { KEEP: '1', ADD: 'y', CHG: 'b' } });
    const s = step(planDeploy(system(now), running(old)), 'web');
    expect(s.action).toBe('update');
    expect(s.causes).toEqual(['image repo/web:1 → repo/web:2', 'environment changed (+ADD -GONE ~CHG)']);
    expect(s.image).toEqual({ from: 'repo/web:1', to: 'repo/web:2' });
    expect(s.replicas).toEqual({ from: 2, to: 2 });
  });

  it("says 'config changed' when the old config label is missing", () => {
    const old = svc('web');
    const now = svc('web', { image: 'repo/web:2' });
    const s = step(planDeploy(system(now), [replica(old, 1, 'running', false)]), 'web');
    expect(s.action).toBe('update');
    expect(s.causes).toEqual(['config changed']);
    expect(s.image.from).toBeUndefined();
  });

  it('says how many replicas run an older config when only some do', () => {
    const old = svc('web', { replicas: 3 });
    const now = svc('web', { replicas: 3, image: 'repo/web:2' });
    const s = step(planDeploy(system(now), [replica(now, 1), replica(old, 2), replica(now, 3)]), 'web');
    expect(s.action).toBe('update');
    expect(s.causes).toEqual(['image repo/web:1 → repo/web:2', '1 of 3 replicas run an older config']);
  });

  it('updates a service whose replicas are not running', () => {
    const web = svc('web', { replicas: 3 });
    const s = step(planDeploy(system(web), [replica(web, 1), replica(web, 2, 'exited'), replica(web, 3, 'created')]), 'web');
    expect(s.action).toBe('update');
    expect(s.causes).toEqual(['2 of 3 replicas not running']);
  });

  it('updates a service with two replicas in one slot', () => {
    const web = svc('web', { replicas: 2 });
    const s = step(planDeploy(system(web), [replica(web, 1), replica(web, 1)]), 'web');
    expect(s.action).toBe('update');
    expect(s.causes).toEqual(['duplicate replica slots']);
  });

  it('scales when only the replica count differs', () => {
    const two = svc('web', { replicas: 2 });
    const three = svc('web', { replicas: 3, update: { ...DEFAULT_UPDATE, parallelism: 2 } });
    const up = step(planDeploy(system(three), running(two)), 'web');
    expect(up).toMatchObject({ action: 'scale', causes: ['replicas 2 → 3'], replicas: { from: 2, to: 3 } });
    const down = step(planDeploy(system(svc('web', { replicas: 1 })), running(two)), 'web');
    expect(down).toMatchObject({ action: 'scale', causes: ['replicas 2 → 1'], replicas: { from: 2, to: 1 } });
  });

  it('a config change and a replica change together is an update with both causes', () => {
    const s = step(planDeploy(system(svc('web', { replicas: 3, image: 'repo/web:2' })), running(svc('web', { replicas: 2 }))), 'web');
    expect(s.action).toBe('update');
    expect(s.causes).toEqual(['image repo/web:1 → repo/web:2', 'replicas 2 → 3']);
  });

  it('deletes services that are not in the configuration, after the others', () => {
    const web = svc('web');
    const zeta = svc('zeta', { replicas: 2 });
    const alpha = svc('alpha');
    const plan = planDeploy(system(web), [...running(zeta), ...running(web), ...running(alpha)]);
    expect(plan.order).toEqual(['web', 'alpha', 'zeta']);
    expect(step(plan, 'zeta')).toEqual({ service: 'zeta', action: 'delete', causes: ['not in the configuration'], replicas: { from: 2, to: 0 }, image: { from: 'repo/zeta:1' } });
    expect(step(plan, 'web').action).toBe('unchanged');
    expect(plan.changes).toBe(true);
  });

  it('orders steps by dependencies', () => {
    const plan = planDeploy(system(svc('web', { dependsOn: deps('api') }), svc('api', { dependsOn: deps('db') }), svc('db')), []);
    expect(plan.order).toEqual(['db', 'api', 'web']);
    expect(plan.steps.map((s) => s.service)).toEqual(plan.order);
  });

  it('does not sort or change the observed list it is given', () => {
    const web = svc('web', { replicas: 2 });
    const observed = [replica(web, 2), replica(web, 1)];
    const copy = structuredClone(observed);
    planDeploy(system(web), observed);
    expect(observed).toEqual(copy);
  });
});

describe('dependencyOrder', () => {
  it('puts dependencies first, otherwise by name', () => {
    expect(dependencyOrder([svc('c'), svc('b'), svc('a')])).toEqual(['a', 'b', 'c']);
    expect(dependencyOrder([svc('a', { dependsOn: deps('c') }), svc('b'), svc('c', { dependsOn: deps('b') })])).toEqual(['b', 'c', 'a']);
  });

  it('handles diamonds, each service once', () => {
    const order = dependencyOrder([svc('top', { dependsOn: deps('l', 'r') }), svc('l', { dependsOn: deps('base') }), svc('r', { dependsOn: deps('base') }), svc('base')]);
    expect(order).toHaveLength(4);
    expect(order[0]).toBe('base');
    expect(order[3]).toBe('top');
  });

  it('every service comes after all its dependencies (random DAGs)', () => {
    for (let seed = 1; seed <= 30; seed++) {
      let x = seed;
      const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
      const names = Array.from({ length: 8 }, (_, i) => `s${i}`);
      // Edges only from a higher index to a lower one: acyclic by construction.
      const services = names.map((name, i) => svc(name, { dependsOn: deps(...names.slice(0, i).filter(() => rnd() < 0.3)) }));
      const order = dependencyOrder([...services].reverse());
      expect([...order].sort()).toEqual([...names].sort());
      for (const s of services) for (const d of s.dependsOn) expect(order.indexOf(d.service)).toBeLessThan(order.indexOf(s.name));
    }
  });

  function error(services: ServiceSpec[]): KibokoError {
    try {
      dependencyOrder(services);
    } catch (err) {
      expect(err).toBeInstanceOf(KibokoError);
      return err as KibokoError;
    }
    throw new Error('expected an error');
  }

  it('a cycle is an error naming the cycle', () => {
    const e = error([svc('a', { dependsOn: deps('b') }), svc('b', { dependsOn: deps('c') }), svc('c', { dependsOn: deps('a') }), svc('x', { dependsOn: deps('a') })]);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('depends_on cycle: a → b → c → a');
    expect(e.hint).toBeTruthy();
  });

  it('names only the services on the cycle', () => {
    const e = error([svc('entry', { dependsOn: deps('x') }), svc('x', { dependsOn: deps('y') }), svc('y', { dependsOn: deps('x') })]);
    expect(e.message).toBe('depends_on cycle: x → y → x');
  });

  it('a service depending on itself is a cycle', () => {
    expect(error([svc('a', { dependsOn: deps('a') })]).message).toBe('depends_on cycle: a → a');
  });

  it('an unknown dependency is an error naming both services', () => {
    const e = error([svc('web', { dependsOn: deps('nope') })]);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('service web depends on unknown service nope');
  });

  it('planDeploy reports the same errors', () => {
    expect(() => planDeploy(system(svc('a', { dependsOn: deps('a') })), [])).toThrow(/cycle/);
  });
});
