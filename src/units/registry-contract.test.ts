import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeEngine, type Engine } from '../engine/index.js';
import { UNIT_LABEL } from './container.js';
import { EngineRegistry } from './engine-registry.js';
import { FAKE_NODE, FakeSwarm } from './fake-swarm.test-support.js';
import { MemoryRegistry } from './memory.js';
import { registryContract } from './registry-contract.js';
import { nodeMachine, SwarmRegistry } from './swarm-registry.js';

const machine = { id: 'n1', primaryIP: '10.0.0.1', metadata: { region: 'eu' } };

registryContract('MemoryRegistry', { engine: 'none', refusesUnrunnable: false }, async () => ({ registry: new MemoryRegistry(structuredClone(machine)), machine }));

registryContract('EngineRegistry over FakeEngine', { engine: 'containers', refusesUnrunnable: true }, async () => {
  const engine = new FakeEngine();
  const stateDir = mkdtempSync(join(tmpdir(), 'kiboko-units-contract-'));
  const registry = new EngineRegistry(engine, stateDir, { machine: structuredClone(machine) });
  return {
    registry,
    machine,
    settle: () => registry.settled(),
    running: async () => (await engine.list()).map((c) => c.labels[UNIT_LABEL]!),
    close: () => {
      registry.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
});

/** The units whose Swarm service has a running task. */
async function runningServices(engine: Engine): Promise<string[]> {
  const out: string[] = [];
  for (const s of await engine.listServices([UNIT_LABEL])) {
    if ((await engine.listTasks(s.id)).some((t) => t.state === 'running')) out.push(s.labels[UNIT_LABEL]!);
  }
  return out;
}

/** On Swarm the machines are the nodes: the fake's one node n1 (region=eu, 10.0.0.1) is the machine /machines answers. */
registryContract('SwarmRegistry over FakeSwarm (FakeEngine with one Swarm node)', { engine: 'services', refusesUnrunnable: true }, async () => {
  const engine = new FakeSwarm();
  const registry = new SwarmRegistry(engine);
  return { registry, machine: nodeMachine(FAKE_NODE), settle: () => registry.settled(), running: () => runningServices(engine) };
});
