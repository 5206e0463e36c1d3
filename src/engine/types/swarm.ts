/** Swarm services as kiboko defines them, their tasks, the nodes, secrets and configs. */

import type { ContainerSpec } from './container-spec.js';

/** A Swarm secret or config (its data is never read back). */
export interface SwarmObject {
  id: string;
  name: string;
  labels: Readonly<Record<string, string>>;
}

/** The settings a service's task containers take as any container does: declared once, in ContainerSpec. */
type TaskContainerSettings = 'healthcheck' | 'user' | 'workingDir' | 'stopSignal' | 'hostname' | 'capAdd' | 'capDrop' | 'sysctls' | 'ulimits' | 'tty' | 'openStdin' | 'init' | 'dns' | 'dnsSearch' | 'dnsOptions';

/** A Swarm service as kiboko defines it; the adapter maps it to the Engine API's ServiceSpec. */
export interface SwarmServiceDefinition extends Pick<ContainerSpec, TaskContainerSettings>, SwarmRestartPolicy, SwarmPlacement {
  name: string;
  image: string;
  /** Replaces the image's ENTRYPOINT (ContainerSpec.Command). */
  entrypoint?: readonly string[] | undefined;
  /** Replaces the image's CMD (ContainerSpec.Args). */
  command?: readonly string[] | undefined;
  env: readonly string[];
  /** Labels on the service. */
  labels: Readonly<Record<string, string>>;
  /** Labels on its containers. */
  containerLabels: Readonly<Record<string, string>>;
  stopGracePeriodMs?: number | undefined;
  mounts: readonly { type: 'volume' | 'bind'; source?: string | undefined; target: string; readOnly: boolean }[];
  networks: readonly { target: string; aliases: readonly string[] }[];
  ports: readonly { target: number; published?: number | undefined; protocol: 'tcp' | 'udp' }[];
  replicas: number;
  update: SwarmUpdateConfig;
  rollback: SwarmUpdateConfig;
  /** Changed from the service's current value, Swarm replaces every task even if nothing else changed (`docker service update --force`). */
  forceUpdate?: number | undefined;
  /** `global`: one task on every node that meets the constraints (replicas ignored). Default replicated. */
  mode?: 'replicated' | 'global' | undefined;
  /** Swarm secrets/configs mounted as files in the tasks. */
  secrets?: readonly SwarmFileRef[] | undefined;
  configs?: readonly SwarmFileRef[] | undefined;
  resources?: {
    limits?: { nanoCpus?: number | undefined; memoryBytes?: number | undefined; pids?: number | undefined } | undefined;
    reservations?: { nanoCpus?: number | undefined; memoryBytes?: number | undefined; genericResources?: readonly { kind: string; value: string | number }[] | undefined } | undefined;
  } | undefined;
  endpointMode?: 'vip' | 'dnsrr' | undefined;
  readOnly?: boolean | undefined;
  /** `ip host` lines for /etc/hosts. */
  hosts?: readonly string[] | undefined;
  /** tmpfs mounts (container path → size in bytes, or undefined). */
  tmpfs?: readonly { target: string; sizeBytes?: number | undefined; mode?: number | undefined }[] | undefined;
}

/** When Swarm replaces a service's failed tasks. */
export interface SwarmRestartPolicy {
  restart: 'none' | 'on-failure' | 'any';
  /** The rest of Swarm's restart policy (deploy.restart_policy); unset: Swarm's defaults (5 s, unlimited, no window). */
  restartDelayMs?: number | undefined;
  restartMaxAttempts?: number | undefined;
  restartWindowMs?: number | undefined;
}

/** Which nodes a service's tasks may run on (deploy.placement). */
export interface SwarmPlacement {
  /** Placement constraints, e.g. `node.labels.region==us-east-1`, `node.id!=abc`. */
  constraints?: readonly string[] | undefined;
  /** Placement preferences: spread over the values of these node labels/attributes. */
  spread?: readonly string[] | undefined;
  maxReplicasPerNode?: number | undefined;
}

/** A Swarm secret or config given to a service's tasks as a file. */
export interface SwarmFileRef {
  id: string;
  name: string;
  /** Secrets: a file name under /run/secrets or an absolute path; configs: an absolute path. */
  target: string;
  uid: string;
  gid: string;
  mode: number;
}

export interface SwarmUpdateConfig {
  parallelism: number;
  delayMs: number;
  failureAction: 'pause' | 'continue' | 'rollback';
  monitorMs: number;
  maxFailureRatio: number;
  order: 'stop-first' | 'start-first';
}

export type SwarmUpdateState = 'updating' | 'paused' | 'completed' | 'rollback_started' | 'rollback_paused' | 'rollback_completed';

export interface SwarmService {
  id: string;
  name: string;
  /** Object version, needed to update it. */
  version: number;
  labels: Readonly<Record<string, string>>;
  image: string;
  replicas: number;
  updateState?: SwarmUpdateState | undefined;
  updateMessage?: string | undefined;
  /** When the update the status describes began (to tell it from an earlier update). */
  updateStartedAt?: string | undefined;
}

export interface SwarmTask {
  id: string;
  state: string;
  desiredState: string;
  message: string;
  error?: string | undefined;
  image: string;
  /** The node the task is assigned to ('' while pending). */
  nodeId?: string | undefined;
}

/** A Swarm node (`docker node ls`), kiboko's view. */
export interface SwarmNode {
  id: string;
  hostname: string;
  /** The address other nodes reach it at (Status.Addr; a manager's advertised address when that reads 0.0.0.0). */
  addr: string;
  role: 'manager' | 'worker';
  /** active, pause or drain (Spec.Availability). */
  availability: string;
  /** ready, down, disconnected or unknown (Status.State). */
  state: string;
  /** The node's own labels (Spec.Labels, `docker node update --label-add`): what `node.labels.*` constraints match. */
  labels: Readonly<Record<string, string>>;
  /** The node of the engine asked (`docker node ls` marks it `*`). */
  self: boolean;
}
