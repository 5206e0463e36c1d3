import { describe, expect, it } from 'vitest';
import { engineSwarmContract } from '../engine/swarm-contract.js';
import { FAKE_NODE, FakeSwarm } from './fake-swarm.test-support.js';

engineSwarmContract('FakeSwarm', async () => ({ engine: new FakeSwarm(), image: 'busybox:latest', label: ['kiboko.test', 'swarm-contract-fake'] }));

describe('FakeSwarm nodes', () => {
  it('places replicas round the ready, active nodes that meet the constraints; none: pending', async () => {
    const engine = new FakeSwarm([FAKE_NODE, { ...FAKE_NODE, id: 'n2', self: false, labels: {} }, { ...FAKE_NODE, id: 'n3', self: false, availability: 'drain' }]);
    const update = { parallelism: 1, delayMs: 0, failureAction: 'pause' as const, monitorMs: 0, maxFailureRatio: 0, order: 'stop-first' as const };
    const def = { name: 's', image: 'x', env: [], labels: {}, containerLabels: {}, mounts: [], networks: [], ports: [], replicas: 3, update, rollback: update, restart: 'any' as const };
    const id = await engine.createService(def);
    expect((await engine.listTasks(id)).map((t) => t.nodeId)).toEqual(['n1', 'n2', 'n1']);
    const eu = await engine.createService({ ...def, name: 'eu', replicas: 1, constraints: ['node.labels.region==eu'] });
    expect((await engine.listTasks(eu)).map((t) => t.nodeId)).toEqual(['n1']);
    engine.nodes[0]!.state = 'down';
    expect((await engine.listTasks(eu)).map((t) => [t.state, t.nodeId])).toEqual([['pending', '']]);
    const all = await engine.createService({ ...def, name: 'all', mode: 'global' });
    expect((await engine.listTasks(all)).map((t) => t.nodeId)).toEqual(['n2']);
  });
});
