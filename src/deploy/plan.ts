import { KibokoError } from '../common/errors.js';
import { configHash, containerConfig, describeChanges } from './hash.js';
import type { ServiceSpec, SystemConfig } from './model.js';
import type { ObservedReplica } from './observe.js';
import { compareNames } from '../common/collate.js';

export type StepAction = 'create' | 'update' | 'scale' | 'delete' | 'unchanged';

export interface PlanStep {
  service: string;
  action: StepAction;
  /** Why: "image a:1 → a:2", "replicas 2 → 3", "not in the configuration", "3 of 3 replicas stopped". */
  causes: string[];
  replicas: { from: number; to: number };
  image: { from?: string | undefined; to?: string | undefined };
  /** Every replica is replaced even where its config is unchanged (its image was rebuilt under the same name). */
  recreate?: boolean | undefined;
}

export interface DeployPlan {
  project: string;
  steps: PlanStep[];
  /** Services in the order apply handles them: dependencies first, deletions last. */
  order: string[];
  changes: boolean;
}

/** Dependencies first (depends_on); a cycle is an error naming it. */
export function dependencyOrder(services: readonly ServiceSpec[]): string[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name].join(' → ');
      throw new KibokoError('INVALID_ARGUMENT', `depends_on cycle: ${cycle}`, { hint: 'remove one of these dependencies' });
    }
    state.set(name, 'visiting');
    for (const d of byName.get(name)?.dependsOn ?? []) {
      if (!byName.has(d.service)) throw new KibokoError('INVALID_ARGUMENT', `service ${name} depends on unknown service ${d.service}`, { hint: 'fix depends_on' });
      visit(d.service, [...path, name]);
    }
    state.set(name, 'done');
    order.push(name);
  };
  for (const s of [...services].sort((a, b) => compareNames(a.name, b.name))) visit(s.name, []);
  return order;
}

const RUNNING = new Set(['running', 'restarting']);

/**
 * Pure: desired configuration (images already resolved) against what runs → one step per
 * service with its causes. No I/O, no clock: `deploy plan` prints exactly this.
 */
export function planDeploy(config: SystemConfig, observed: readonly ObservedReplica[]): DeployPlan {
  const steps: PlanStep[] = [];
  const byService = new Map<string, ObservedReplica[]>();
  for (const r of observed) byService.set(r.service, [...(byService.get(r.service) ?? []), r]);

  const jobs = new Set(config.services.flatMap((s) => s.dependsOn.filter((d) => d.condition === 'service_completed_successfully').map((d) => d.service)));
  for (const s of config.services) {
    if (s.containerName && s.replicas > 1) {
      throw new KibokoError('INVALID_ARGUMENT', `service ${s.name} sets container_name ${s.containerName} and ${s.replicas} replicas: a container name is unique`, {
        hint: 'remove container_name (replicas are named <project>-<service>-<n>) or keep one replica',
      });
    }
  }
  for (const name of dependencyOrder(config.services)) {
    const s = config.services.find((x) => x.name === name)!;
    const have = (byService.get(name) ?? []).sort((a, b) => a.slot - b.slot);
    const want = configHash(s);
    const image = { from: have.find((r) => r.config)?.config?.image, to: s.image };
    if (have.length === 0) {
      steps.push({ service: name, action: 'create', causes: ['new service'], replicas: { from: 0, to: s.replicas }, image });
      continue;
    }
    const causes: string[] = [];
    const stale = have.filter((r) => r.hash !== want);
    const adopted = have.filter((r) => r.adopted);
    if (adopted.length) causes.push(`adopt ${adopted.length} container(s) started by docker compose (${adopted.map((r) => r.name).join(', ')}): replaced by kiboko replicas`);
    if (stale.length > adopted.length) {
      const old = stale.find((r) => r.config)?.config;
      const described = old ? describeChanges(old, containerConfig(s)) : [];
      causes.push(...(described.length ? described : ['config changed']));
      if (stale.length < have.length) causes.push(`${stale.length} of ${have.length} replicas run an older config`);
    }
    // A one-shot job that has finished is where it should be.
    const down = have.filter((r) => !RUNNING.has(r.status) && !(jobs.has(name) && r.status === 'exited'));
    if (down.length) causes.push(`${down.length} of ${have.length} replicas not running`);
    const slots = new Set(have.map((r) => r.slot));
    if (slots.size !== have.length) causes.push('duplicate replica slots');
    const scale = have.length !== s.replicas;
    if (scale) causes.push(`replicas ${have.length} → ${s.replicas}`);
    const action: StepAction = stale.length || down.length || slots.size !== have.length ? 'update' : scale ? 'scale' : 'unchanged';
    steps.push({ service: name, action, causes, replicas: { from: have.length, to: s.replicas }, image });
  }
  const orphans = [...byService.keys()].filter((n) => !config.services.some((s) => s.name === n)).sort();
  for (const name of orphans) {
    const have = byService.get(name)!;
    steps.push({ service: name, action: 'delete', causes: ['not in the configuration'], replicas: { from: have.length, to: 0 }, image: { from: have[0]?.config?.image } });
  }
  return {
    project: config.project,
    steps,
    order: steps.map((s) => s.service),
    changes: steps.some((s) => s.action !== 'unchanged'),
  };
}

/**
 * Marks services whose image was just rebuilt under the same name (`up --build`) for
 * replacement when their replicas run another image id: the config hash names the image, not
 * its content, so the plan alone cannot see it.
 */
export function markRebuilt(plan: DeployPlan, rebuilt: ReadonlyMap<string, { image: string; id: string }>, runningIds: ReadonlyMap<string, readonly string[]>): DeployPlan {
  const steps = plan.steps.map((step) => {
    const r = rebuilt.get(step.service);
    if (!r || step.action === 'create' || step.action === 'delete') return step;
    const stale = (runningIds.get(step.service) ?? []).filter((id) => id !== r.id).length;
    if (stale === 0) return step;
    return { ...step, action: 'update' as const, recreate: true, causes: [...step.causes, `image ${r.image} rebuilt (${stale} replica(s) run the previous build)`] };
  });
  return { ...plan, steps, changes: steps.some((s) => s.action !== 'unchanged') };
}
