import { describe, expect, it } from 'vitest';
import { newService, type SystemConfig } from './model.js';
import { toSwarmDefinition } from './swarm.js';

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
