import { KibokoError } from '../common/errors.js';
import { FakeEngine, type EngineSystemInfo, type SwarmNode, type SwarmService, type SwarmServiceDefinition, type SwarmTask } from '../engine/index.js';

/** The one node a FakeSwarm has unless given others: the fake engine's own, a manager labelled region=eu. */
export const FAKE_NODE: SwarmNode = { id: 'n1', hostname: 'node-1', addr: '10.0.0.1', role: 'manager', availability: 'active', state: 'ready', labels: { region: 'eu' }, self: true };

/**
 * A Swarm in memory (test support for the Swarm registry and the registry contract), one node (n1)
 * unless given more: a replicated service's task i runs on the i-th node (round) of those that are
 * ready, active and meet its constraints, a global service's on each of them; no such node: pending.
 * `nodes` may be changed by a test (a node goes down, is drained, gets a label).
 */
export class FakeSwarm extends FakeEngine {
  readonly services = new Map<string, { def: SwarmServiceDefinition; version: number }>();
  readonly nodes: SwarmNode[];
  private n = 0;

  constructor(nodes: readonly SwarmNode[] = [FAKE_NODE]) {
    super();
    this.nodes = structuredClone([...nodes]);
  }

  /** A Swarm manager, as the daemon asks before it picks the Swarm backend. */
  override async systemInfo(): Promise<EngineSystemInfo> {
    return { ...(await super.systemInfo()), swarm: 'active', isManager: true };
  }
  private summary(id: string): SwarmService {
    const s = this.services.get(id)!;
    return { id, name: s.def.name, version: s.version, labels: { ...s.def.labels }, image: s.def.image, replicas: s.def.mode === 'global' ? 0 : s.def.replicas };
  }
  override async listServices(labels: readonly string[] = []): Promise<SwarmService[]> {
    return [...this.services.keys()].map((id) => this.summary(id)).filter((s) => labels.every((l) => l in s.labels));
  }
  override async inspectService(id = ''): Promise<SwarmService> {
    if (!this.services.has(id)) throw new KibokoError('TARGET_NOT_FOUND', `service ${id} not found`);
    return this.summary(id);
  }
  override async createService(definition?: SwarmServiceDefinition): Promise<string> {
    const def = definition!;
    if ([...this.services.values()].some((s) => s.def.name === def.name)) throw new KibokoError('CONFLICT', `service ${def.name} exists`);
    const id = `svc${++this.n}`;
    this.services.set(id, { def, version: 1 });
    return id;
  }
  override async updateService(id = '', version = 0, definition?: SwarmServiceDefinition): Promise<void> {
    const def = definition!;
    const s = this.services.get(id)!;
    if (s.version !== version) throw new KibokoError('CONFLICT', 'update out of sequence');
    if ((s.def.mode ?? 'replicated') !== (def.mode ?? 'replicated')) throw new KibokoError('ENGINE_ERROR', 'service mode change is not allowed');
    this.services.set(id, { def, version: version + 1 });
  }
  override async removeService(id = ''): Promise<void> {
    this.services.delete(id);
  }
  override async listTasks(id = ''): Promise<SwarmTask[]> {
    const s = this.services.get(id);
    if (!s) return [];
    const fit = this.nodes.filter((node) => node.state === 'ready' && node.availability === 'active' && (s.def.constraints ?? []).every((c) => meets(node, c)));
    const placed: (SwarmNode | undefined)[] = s.def.mode === 'global' ? fit : Array.from({ length: s.def.replicas }, (_, i) => fit[i % Math.max(1, fit.length)]);
    return placed.map((node, i) => ({
      id: `${id}-t${i}`,
      state: node ? 'running' : 'pending',
      desiredState: 'running',
      message: node ? 'started' : `no suitable node (scheduling constraints not satisfied on ${this.nodes.length} node${this.nodes.length === 1 ? '' : 's'})`,
      image: s.def.image,
      nodeId: node?.id ?? '',
    }));
  }
  override async listNodes(): Promise<SwarmNode[]> {
    return structuredClone(this.nodes);
  }
}

/** `node.id==…`, `node.hostname!=…`, `node.labels.k==v` as Swarm evaluates them for one node. */
function meets(node: SwarmNode, constraint: string): boolean {
  const m = /^node\.(id|hostname|role|labels\.(.+?))\s*(==|!=)\s*(.*)$/.exec(constraint);
  if (!m) throw new KibokoError('ENGINE_ERROR', `FakeSwarm: unsupported constraint ${constraint}`);
  const have = m[1] === 'id' ? node.id : m[1] === 'hostname' ? node.hostname : m[1] === 'role' ? node.role : node.labels[m[2]!];
  return m[3] === '==' ? have === m[4] : have !== m[4];
}
