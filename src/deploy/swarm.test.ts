import { describe, expect, it } from 'vitest';
import type { SwarmService } from '../engine/index.js';
import { LABELS } from '../common/labels.js';
import { parseCompose } from './compose/index.js';
import { configHash } from './hash.js';
import { planSwarm, toSwarmDefinition } from './swarm.js';

const compose = (service: string) => parseCompose(`name: p\nservices:\n  web:\n    image: web:1\n${service}`, 'compose.yaml');
const restartOf = (service: string) => {
  const def = toSwarmDefinition('p', compose(service).services[0]!, 1);
  return { restart: def.restart, delay: def.restartDelayMs, attempts: def.restartMaxAttempts, window: def.restartWindowMs };
};

describe('Swarm restart policy, as docker stack deploy maps it', () => {
  it('restarts tasks on any exit when restart: is absent, "no", always or unless-stopped; on-failure stays', () => {
    expect(restartOf('').restart).toBe('any');
    expect(restartOf('    restart: "no"\n').restart).toBe('any');
    expect(restartOf('    restart: always\n').restart).toBe('any');
    expect(restartOf('    restart: unless-stopped\n').restart).toBe('any');
    expect(restartOf('    restart: on-failure\n').restart).toBe('on-failure');
  });
  it('honours deploy.restart_policy (condition, delay, max_attempts, window) over restart:', () => {
    expect(restartOf('    restart: always\n    deploy:\n      restart_policy: { condition: on-failure, delay: 2s, max_attempts: 3, window: 1m }\n')).toEqual({ restart: 'on-failure', delay: 2000, attempts: 3, window: 60_000 });
    expect(restartOf('    deploy:\n      restart_policy: { condition: none }\n').restart).toBe('none');
    expect(restartOf('    deploy:\n      restart_policy: {}\n').restart).toBe('any');
  });
  it('refuses a bad restart_policy with the place and the expected values', () => {
    expect(() => compose('    deploy:\n      restart_policy: { condition: sometimes, colour: red }\n')).toThrow(/condition[\s\S]*none[\s\S]*colour/);
  });
});

describe('planSwarm', () => {
  const config = compose('    deploy:\n      replicas: 2\n');
  const service = (over: Partial<SwarmService> & { running?: number }) => ({
    id: 'x',
    name: 'p_web',
    version: 1,
    image: 'web:1',
    replicas: 2,
    labels: { [LABELS.deployService]: 'web', [LABELS.deployHash]: configHash(config.services[0]!) },
    ...over,
  });
  it('reports a service whose running tasks are below the desired count, so apply forces new ones', () => {
    expect(planSwarm(config, [service({ running: 2 })]).steps[0]).toMatchObject({ action: 'unchanged' });
    expect(planSwarm(config, [service({ running: 1 })]).steps[0]).toMatchObject({ action: 'update', causes: ['1 of 2 replicas running'] });
  });
  it('reports a service scaled down by hand', () => {
    const plan = planSwarm(config, [service({ replicas: 1, running: 1 })]);
    expect(plan.steps[0]).toMatchObject({ action: 'scale', causes: ['replicas 1 → 2'] });
    expect(plan.changes).toBe(true);
  });
});
