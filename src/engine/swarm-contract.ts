import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from './port.js';
import type { SwarmServiceDefinition, SwarmUpdateConfig } from './types.js';

export interface SwarmContractSubject {
  /** An engine that is a Swarm manager. */
  engine: Engine;
  image: string;
  /** Label every created service carries, for cleanup. */
  label: [string, string];
  cleanup?: () => Promise<void>;
}

const UPDATE: SwarmUpdateConfig = { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 0, maxFailureRatio: 0, order: 'stop-first' };

/**
 * The Swarm part of the Engine port: nodes, and the services' tasks placed on them. Run against the
 * real Docker adapter on a Swarm manager and the in-memory Swarm, so the units' Swarm registry (whose
 * machines are the nodes) is tested against the engine's true rules.
 */
export function engineSwarmContract(name: string, make: () => Promise<SwarmContractSubject>): void {
  describe(`Engine Swarm contract: ${name}`, () => {
    const run = { s: undefined as unknown as SwarmContractSubject, services: [] as string[] };
    beforeAll(async () => {
      run.s = await make();
    });
    afterAll(async () => {
      for (const id of run.services) await run.s.engine.removeService(id).catch(() => undefined);
      await run.s.cleanup?.();
    });

    it('lists the nodes: ids unique, exactly one is this engine’s own (ready, with an address), each with a role, an availability, a state and labels', async () => {
      const nodes = await run.s.engine.listNodes();
      expect(new Set(nodes.map((n) => n.id)).size).toBe(nodes.length);
      const own = nodes.filter((n) => n.self);
      expect(own).toHaveLength(1);
      expect(own[0]).toMatchObject({ state: 'ready', role: 'manager' });
      expect(own[0]!.addr).toMatch(/^[0-9a-f.:]+$/);
      expect(own[0]!.addr).not.toBe('0.0.0.0');
      for (const n of nodes) {
        expect(n.id).toMatch(/^[0-9a-z]+$/);
        expect(['manager', 'worker']).toContain(n.role);
        expect(['active', 'pause', 'drain']).toContain(n.availability);
        expect(['ready', 'down', 'disconnected', 'unknown']).toContain(n.state);
        expect(typeof n.labels).toBe('object');
      }
    });

    it('places a service’s task on a node it lists, and keeps it off a node a constraint excludes', async () => {
      const own = (await run.s.engine.listNodes()).find((n) => n.self)!;
      const tag = Math.random().toString(16).slice(2, 8);
      const def = (suffix: string, constraints: string[]): SwarmServiceDefinition => ({
        name: `kiboko-swarm-contract-${tag}-${suffix}`,
        image: run.s.image,
        command: ['sleep', '3600'],
        env: [],
        labels: { [run.s.label[0]]: run.s.label[1] },
        containerLabels: { [run.s.label[0]]: run.s.label[1] },
        mounts: [],
        networks: [],
        ports: [],
        replicas: 1,
        update: UPDATE,
        rollback: UPDATE,
        restart: 'none',
        constraints,
      });
      const placed = await run.s.engine.createService(def('here', [`node.id==${own.id}`]));
      run.services.push(placed);
      const nowhere = await run.s.engine.createService(def('nowhere', [`node.labels.kiboko-swarm-contract-${tag}==none`]));
      run.services.push(nowhere);
      const ids = new Set((await run.s.engine.listNodes()).map((n) => n.id));
      const deadline = Date.now() + 60_000;
      let nodeIds: string[] = [];
      let waiting: Awaited<ReturnType<Engine['listTasks']>> = [];
      while (Date.now() < deadline) {
        nodeIds = (await run.s.engine.listTasks(placed)).map((t) => t.nodeId ?? '').filter(Boolean);
        waiting = await run.s.engine.listTasks(nowhere);
        if (nodeIds.length && waiting.some((t) => t.state === 'pending')) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(nodeIds).toEqual([own.id]);
      expect(ids.has(nodeIds[0]!)).toBe(true);
      expect(waiting.length).toBeGreaterThan(0);
      expect(waiting.map((t) => [t.state, t.nodeId ?? ''])).toEqual(waiting.map(() => ['pending', '']));
    });
  });
}
