import { describe, expect, it } from 'vitest';
import type { SwarmService } from '../engine/index.js';
import { LABELS } from '../common/labels.js';
import { parseCompose } from './compose/index.js';
import { configHash } from './hash.js';
import { newService, type SystemConfig } from './model.js';
import { planSwarm, toSwarmDefinition } from './swarm.js';

const compose = (service: string) => parseCompose(`name: p\nservices:\n  web:\n    image: web:1\n${service}`, 'compose.yaml');
const restartOf = (service: string) => {
  const cfg = compose(service);
  const def = toSwarmDefinition(cfg, cfg.services[0]!, 1);
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

describe('toSwarmDefinition: compose keys as a Swarm service', () => {
  const config: SystemConfig = {
    project: 'shop',
    services: [],
    networks: ['back'],
    volumes: [],
    sources: [],
    networkDefinitions: { back: { name: 'shop_back' } },
  };
  const s = newService('api', 'repo/api:1', {
    networks: ['back'],
    secrets: [{ source: 'db_pw', target: '/run/secrets/db_pw', mode: 0o400 }],
    configs: [{ source: 'conf', target: '/etc/app.conf', uid: '1000' }],
    deploy: {
      mode: 'global',
      resources: { limits: { cpus: 0.5, memoryBytes: 64 * 1024 * 1024, pids: 50 }, reservations: { cpus: 0.25, memoryBytes: 32 * 1024 * 1024 } },
      placement: { constraints: ['node.role==manager'], preferences: [{ spread: 'node.labels.zone' }], maxReplicasPerNode: 2 },
      labels: { 'com.example.tier': 'api' },
      restartPolicy: { condition: 'on-failure', maxAttempts: 3, delayMs: 2000 },
    },
    capAdd: ['NET_ADMIN'],
    extraHosts: ['db.local:10.0.0.9'],
  });
  const objects = { secrets: new Map([['db_pw', { id: 'sec1', name: 'shop_db_pw_abc' }]]), configs: new Map([['conf', { id: 'cfg1', name: 'shop_conf_def' }]]) };

  it('maps secrets, configs, resources, placement, labels, global mode and restart policy', () => {
    const d = toSwarmDefinition(config, s, 3, objects);
    expect(d.networks).toEqual([{ target: 'shop_back', aliases: ['api'] }]);
    expect(d.labels['com.example.tier']).toBe('api');
    expect(d).toMatchObject({
      mode: 'global',
      secrets: [{ id: 'sec1', name: 'shop_db_pw_abc', target: 'db_pw', uid: '0', gid: '0', mode: 0o400 }],
      configs: [{ id: 'cfg1', name: 'shop_conf_def', target: '/etc/app.conf', uid: '1000', gid: '0', mode: 0o444 }],
      capAdd: ['NET_ADMIN'],
      hosts: ['10.0.0.9 db.local'],
      resources: { limits: { nanoCpus: 500_000_000, memoryBytes: 64 * 1024 * 1024, pids: 50 }, reservations: { nanoCpus: 250_000_000, memoryBytes: 32 * 1024 * 1024 } },
      constraints: ['node.role==manager'],
      spread: ['node.labels.zone'],
      maxReplicasPerNode: 2,
      restart: 'on-failure',
      restartMaxAttempts: 3,
      restartDelayMs: 2000,
    });
  });

  it('a secret the file does not define is a clear error', () => {
    expect(() => toSwarmDefinition(config, s, 1)).toThrow(/secret db_pw is not defined/);
  });
});
