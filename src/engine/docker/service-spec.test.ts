import { describe, expect, it } from 'vitest';
import { serviceSpec } from './adapter.js';

describe('serviceSpec: kiboko service definition → the Engine API ServiceSpec', () => {
  it('carries secrets, configs, resources, placement, restart policy and container settings', () => {
    const spec = serviceSpec({
      name: 'shop_api',
      image: 'repo/api:1',
      env: [],
      labels: {},
      containerLabels: {},
      mounts: [],
      networks: [],
      ports: [],
      replicas: 1,
      update: { parallelism: 1, delayMs: 0, failureAction: 'rollback', monitorMs: 5000, maxFailureRatio: 0, order: 'start-first' },
      rollback: { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'start-first' },
      restart: 'on-failure',
      mode: 'global',
      secrets: [{ id: 'sec1', name: 'shop_db_pw_abc', target: 'db_pw', uid: '0', gid: '0', mode: 0o400 }],
      configs: [{ id: 'cfg1', name: 'shop_conf_def', target: '/etc/app.conf', uid: '1000', gid: '0', mode: 0o444 }],
      resources: { limits: { nanoCpus: 500_000_000, memoryBytes: 1024, pids: 50 }, reservations: { nanoCpus: 250_000_000, genericResources: [{ kind: 'gpu', value: 1 }] } },
      constraints: ['node.role==manager'],
      spread: ['node.labels.zone'],
      maxReplicasPerNode: 2,
      restartMaxAttempts: 3,
      restartDelayMs: 2000,
      capAdd: ['NET_ADMIN'],
      hosts: ['10.0.0.9 db.local'],
      endpointMode: 'dnsrr',
    }) as { TaskTemplate: Record<string, unknown>; Mode: unknown; EndpointSpec: unknown };
    expect(spec.Mode).toEqual({ Global: {} });
    expect(spec.EndpointSpec).toMatchObject({ Mode: 'dnsrr' });
    expect(spec.TaskTemplate).toMatchObject({
      ContainerSpec: {
        Secrets: [{ SecretID: 'sec1', SecretName: 'shop_db_pw_abc', File: { Name: 'db_pw', UID: '0', GID: '0', Mode: 0o400 } }],
        Configs: [{ ConfigID: 'cfg1', ConfigName: 'shop_conf_def', File: { Name: '/etc/app.conf', UID: '1000', GID: '0', Mode: 0o444 } }],
        CapabilityAdd: ['NET_ADMIN'],
        Hosts: ['10.0.0.9 db.local'],
      },
      Resources: { Limits: { NanoCPUs: 500_000_000, MemoryBytes: 1024, Pids: 50 }, Reservations: { NanoCPUs: 250_000_000, GenericResources: [{ DiscreteResourceSpec: { Kind: 'gpu', Value: 1 } }] } },
      Placement: { Constraints: ['node.role==manager'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }], MaxReplicas: 2 },
      RestartPolicy: { Condition: 'on-failure', MaxAttempts: 3, Delay: 2_000_000_000 },
    });
  });
});
