import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeEngine, type Engine } from '../engine/index.js';
import { UNIT_LABEL } from './container.js';
import { EngineRegistry } from './engine-registry.js';
import { FakeSwarm } from './fake-swarm.test-support.js';
import { MemoryRegistry } from './memory.js';
import { registryContract } from './registry-contract.js';
import { SwarmRegistry } from './swarm-registry.js';

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

/**
 * As `kiboko serve` builds it, the Swarm registry's machine is this host (its machine-id), not the
 * Swarm node: the fake's node is n1, the registry's machine another id.
 */
const swarmCapabilities = {
  engine: 'services',
  refusesUnrunnable: true,
  knownDivergences: { stateMachines: "/state names the Swarm node ids of a unit's tasks, /units and /machines this host's machine-id" },
} as const;

registryContract('SwarmRegistry over FakeSwarm (FakeEngine with one Swarm node)', swarmCapabilities, async () => {
  const engine = new FakeSwarm();
  const swarmMachine = { ...machine, id: 'host-machine-id' };
  const registry = new SwarmRegistry(engine, { machine: structuredClone(swarmMachine) });
  return { registry, machine: swarmMachine, settle: () => registry.settled(), running: () => runningServices(engine) };
});
