import { LABELS } from '../common/labels.js';
import type { ContainerStatus, Engine } from '../engine/index.js';
import type { ContainerConfig } from './hash.js';

/** One container kiboko deployed, as found on the engine by its labels. */
export interface ObservedReplica {
  id: string;
  name: string;
  service: string;
  slot: number;
  hash: string;
  /** The config it was created from (from its label), for causes and rollbacks. */
  config: ContainerConfig | undefined;
  status: ContainerStatus;
  revision: number | undefined;
}

export function parseReplicaLabels(c: { id: string; name: string; labels: Readonly<Record<string, string>>; status: ContainerStatus }): ObservedReplica | undefined {
  const service = c.labels[LABELS.deployService];
  if (!service) return undefined;
  let config: ContainerConfig | undefined;
  try {
    config = c.labels[LABELS.deployConfig] ? (JSON.parse(c.labels[LABELS.deployConfig]!) as ContainerConfig) : undefined;
  } catch {
    config = undefined;
  }
  const rev = Number(c.labels[LABELS.deployRevision]);
  return {
    id: c.id,
    name: c.name,
    service,
    slot: Number(c.labels[LABELS.deploySlot] ?? 0),
    hash: c.labels[LABELS.deployHash] ?? '',
    config,
    status: c.status,
    revision: Number.isFinite(rev) && rev > 0 ? rev : undefined,
  };
}

/** Every container of a project, from one labelled list call. */
export async function observeProject(engine: Engine, project: string): Promise<ObservedReplica[]> {
  const list = await engine.list({ all: true, labels: [`${LABELS.deployProject}=${project}`] });
  return list.map(parseReplicaLabels).filter((r): r is ObservedReplica => r !== undefined);
}
