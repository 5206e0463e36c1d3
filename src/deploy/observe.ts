import { settlesWithin } from '../common/concurrency.js';
import { COMPOSE_LABELS, LABELS } from '../common/labels.js';
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
  /** Started by docker compose (v1 or v2), not by kiboko: the next apply replaces it with a kiboko replica. */
  adopted?: boolean | undefined;
}

export function parseReplicaLabels(c: { id: string; name: string; labels: Readonly<Record<string, string>>; status: ContainerStatus }): ObservedReplica | undefined {
  const service = c.labels[LABELS.deployService];
  if (!service) return parseComposeLabels(c);
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

/** A container `docker compose up` (v2) or `docker-compose up` (v1) started: a replica to adopt. One-off `run` containers are not replicas. */
function parseComposeLabels(c: { id: string; name: string; labels: Readonly<Record<string, string>>; status: ContainerStatus }): ObservedReplica | undefined {
  const service = c.labels[COMPOSE_LABELS.service];
  // compose numbers every replica it starts; a container without a number only inherited the
  // labels from its image (e.g. a build step of an image built for the project).
  if (!service || c.labels[COMPOSE_LABELS.oneoff] === 'True' || c.labels[COMPOSE_LABELS.containerNumber] === undefined) return undefined;
  const slot = Number(c.labels[COMPOSE_LABELS.containerNumber] ?? 1);
  return { id: c.id, name: c.name, service, slot: Number.isInteger(slot) && slot > 0 ? slot : 1, hash: '', config: undefined, status: c.status, revision: undefined, adopted: true };
}

/**
 * Every container of a project, from one labelled list call: kiboko labels its replicas with
 * docker compose's project label too, so the containers `docker compose up` started for a project
 * of the same name come back from the same call (adopted: planned for replacement, never run
 * twice). A container counts as kiboko's only when its kiboko project label names this project.
 */
export async function observeProject(engine: Engine, project: string): Promise<ObservedReplica[]> {
  const listed = await engine.list({ all: true, labels: [`${COMPOSE_LABELS.project}=${project}`] });
  return listed
    .filter((c) => (c.labels[LABELS.deployService] ? c.labels[LABELS.deployProject] === project : !c.labels[LABELS.managed]))
    .map(parseReplicaLabels)
    .filter((r): r is ObservedReplica => r !== undefined);
}

/** A project's container list asked for ahead (observeEarly): its answer, once it comes. */
export interface EarlyObservation {
  project: string;
  containers: Promise<ObservedReplica[]>;
}

/**
 * Asks for a project's containers now, before its configuration is read, so the engine answers
 * while it is (~15 ms for 100 containers on Docker 20.10, half a no-op plan's wait). The load is
 * synchronous and keeps the event loop from running, and a request is only written once the loop
 * has run: this waits for the engine's version handshake (at most `handshakeMs`) and for the
 * request to be written (two turns of the loop) before it returns. Never rejects; the answer's
 * promise carries the list or its error.
 */
export async function observeEarly(engine: Engine, project: string, handshakeMs = 50): Promise<EarlyObservation> {
  const containers = observeProject(engine, project);
  containers.catch(() => undefined);
  await settlesWithin(engine.ready(), handshakeMs);
  for (let turn = 0; turn < 2; turn++) await new Promise<void>((r) => setImmediate(r));
  return { project, containers };
}
