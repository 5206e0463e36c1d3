import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE } from '../../images/index.js';
import { connectEngine } from '../index.js';
import { engineSwarmContract } from '../swarm-contract.js';

/**
 * The Swarm part of the port on the real engine: a one-node Swarm (`swarm init` on 127.0.0.1) made
 * only when the engine is not in one already, and left again only by this file if it made it.
 */
const docker = new Docker({ socketPath: '/var/run/docker.sock' });
let initialisedHere = false;

beforeAll(async () => {
  if ((await docker.info()).Swarm?.LocalNodeState !== 'active') {
    await docker.swarmInit({ ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1' });
    initialisedHere = true;
  }
}, 60_000);

afterAll(async () => {
  for (const s of await docker.listServices({ filters: JSON.stringify({ label: ['kiboko.test=swarm-contract-docker'] }) }).catch(() => [])) await docker.getService(s.ID).remove().catch(() => undefined);
  if (initialisedHere) await docker.swarmLeave({ force: true });
}, 120_000);

engineSwarmContract('DockerEngine (real engine)', async () => ({ engine: await connectEngine(), image: BUSYBOX_IMAGE, label: ['kiboko.test', 'swarm-contract-docker'] }));

describe('DockerEngine nodes', () => {
  it('reads a node’s labels back as `docker node update --label-add` set them, and its own node as docker info names it', async () => {
    const engine = await connectEngine();
    const nodeId = (await docker.info()).Swarm!.NodeID as string;
    const key = `kiboko.test.node-${Math.random().toString(16).slice(2, 8)}`;
    const update = async (change: (labels: Record<string, string>) => void) => {
      const n = await docker.getNode(nodeId).inspect();
      const labels = { ...(n.Spec?.Labels ?? {}) };
      change(labels);
      await docker.getNode(nodeId).update({ ...n.Spec, Labels: labels, version: n.Version.Index });
    };
    await update((l) => (l[key] = 'yes'));
    try {
      const own = (await engine.listNodes()).find((n) => n.self)!;
      expect(own.id).toBe(nodeId);
      expect(own.labels[key]).toBe('yes');
      expect(own.hostname).toBe((await docker.info()).Name);
    } finally {
      await update((l) => delete l[key]);
    }
    expect((await engine.listNodes()).find((n) => n.self)!.labels[key]).toBeUndefined();
  });
});
