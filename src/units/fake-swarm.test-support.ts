import { KibokoError } from '../common/errors.js';
import { FakeEngine, type SwarmService, type SwarmServiceDefinition, type SwarmTask } from '../engine/index.js';

/**
 * A one-node Swarm in memory (test support for the Swarm registry and the registry contract): a
 * task runs on node n1 when the constraints allow it, else it is pending.
 */
export class FakeSwarm extends FakeEngine {
  readonly services = new Map<string, { def: SwarmServiceDefinition; version: number }>();
  readonly node = { id: 'n1', labels: { region: 'eu' } as Record<string, string> };
  private n = 0;

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
    const count = s.def.mode === 'global' ? 1 : s.def.replicas;
    const fits = (s.def.constraints ?? []).every((c) => {
      const m = /^node\.(id|labels\.(.+))(==|!=)(.*)$/.exec(c)!;
      const have = m[1] === 'id' ? this.node.id : this.node.labels[m[2]!];
      return m[3] === '==' ? have === m[4] : have !== m[4];
    });
    return Array.from({ length: count }, (_, i) => ({
      id: `${id}-t${i}`,
      state: fits ? 'running' : 'pending',
      desiredState: 'running',
      message: fits ? 'started' : 'no suitable node (scheduling constraints not satisfied on 1 node)',
      image: s.def.image,
      nodeId: fits ? 'n1' : '',
    }));
  }
}
