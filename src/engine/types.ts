/** kiboko's own view of containers; nothing above the engine module sees dockerode types. */

export interface ContainerRef {
  /** Full 64-hex container id. */
  id: string;
  /** Name without the leading slash. */
  name: string;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerSummary extends ContainerRef {
  image: string;
  labels: Readonly<Record<string, string>>;
  status: ContainerStatus;
  /** Unix seconds. */
  created: number;
}

export interface ContainerDetails extends ContainerSummary {
  /** Host PID of the container's init process, 0 when not running. */
  pid: number;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  restartCount: number;
  /** The image's / container's configured stop signal, if any. */
  stopSignal: string | undefined;
  /** IPv4 address per attached network. */
  networks: Readonly<Record<string, { ipAddress: string }>>;
  mounts: readonly { type: string; name: string | undefined; source: string; destination: string }[];
  /** Health from the container's healthcheck; `none` when it has none. */
  health: HealthStatus;
  /** Whether the container (or its image) defines a healthcheck. */
  hasHealthcheck: boolean;
  /** Image id the container runs. */
  imageId: string;
}

export interface ListOptions {
  /** Include stopped containers (`docker ps -a`). */
  all?: boolean;
  /** Label filters, `key` or `key=value`, ANDed (evaluated by the engine). */
  labels?: readonly string[];
}

export interface RemoveOptions {
  force?: boolean;
  /** Remove the container's links (legacy links only). */
  links?: boolean;
  /** Remove anonymous volumes attached to the container. */
  volumes?: boolean;
}

export interface ExecOptions {
  cmd: readonly string[];
  user?: string;
  env?: readonly string[];
  workingDir?: string;
  privileged?: boolean;
  signal?: AbortSignal;
  /** Called with output chunks as they arrive. */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ContainerSpec {
  image: string;
  name?: string;
  cmd?: readonly string[];
  entrypoint?: readonly string[];
  env?: readonly string[];
  labels?: Readonly<Record<string, string>>;
  stopSignal?: string;
  /** Seconds docker stop waits before SIGKILL when the caller gives none. */
  stopTimeout?: number;
  networkMode?: string;
  capAdd?: readonly string[];
  autoRemove?: boolean;
  /** `name:/path` or `/host:/path` bind / volume specs. */
  binds?: readonly string[];
  /** Anonymous volumes to create at these container paths. */
  volumes?: readonly string[];
  init?: boolean;
  /** Cgroup parent (e.g. `/docker/<id>` to nest under another container's cgroup). */
  cgroupParent?: string;
  user?: string;
  workingDir?: string;
  /** Published ports. */
  ports?: readonly { target: number; protocol: 'tcp' | 'udp'; published?: number | undefined; hostIp?: string | undefined }[];
  /** Networks to join, with DNS aliases on each; the first is joined at create time. */
  networks?: readonly { name: string; aliases?: readonly string[] }[];
  healthcheck?: { test: readonly string[]; intervalMs?: number | undefined; timeoutMs?: number | undefined; retries?: number | undefined; startPeriodMs?: number | undefined };
  restartPolicy?: { name: 'no' | 'always' | 'on-failure' | 'unless-stopped'; maximumRetryCount?: number };
}

export type HealthStatus = 'none' | 'starting' | 'healthy' | 'unhealthy';

export interface NetworkSummary {
  id: string;
  name: string;
  labels: Readonly<Record<string, string>>;
}

/** One sample of a container's resource use (the engine's stats, one-shot). */
export interface ContainerStats {
  /** Total CPU time used by the container's cgroup so far, in nanoseconds. */
  cpuTotalNs: number;
  /** Host CPU time so far, in nanoseconds (for usage ratios). */
  systemCpuNs: number;
  onlineCpus: number;
  memoryBytes: number;
  read: string;
}

export interface EngineInfo {
  endpoint: string;
  serverVersion: string;
  /** API version the server speaks at most. */
  apiVersion: string;
  /** API version kiboko negotiated and uses. */
  negotiatedApiVersion: string;
  os: string;
  arch: string;
}

/** Host facts the engine reports (`docker info`). */
export interface EngineSystemInfo {
  cgroupDriver: string;
  cgroupVersion: string;
  kernelVersion: string;
  operatingSystem: string;
  securityOptions: readonly string[];
  swarm: 'inactive' | 'active' | 'pending' | 'error' | 'locked' | string;
  isManager: boolean;
}

/** A Swarm service as kiboko defines it; the adapter maps it to the Engine API's ServiceSpec. */
export interface SwarmServiceDefinition {
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
  healthcheck?: { test: readonly string[]; intervalMs?: number | undefined; timeoutMs?: number | undefined; retries?: number | undefined; startPeriodMs?: number | undefined } | undefined;
  user?: string | undefined;
  workingDir?: string | undefined;
  stopSignal?: string | undefined;
  stopGracePeriodMs?: number | undefined;
  mounts: readonly { type: 'volume' | 'bind'; source?: string | undefined; target: string; readOnly: boolean }[];
  networks: readonly { target: string; aliases: readonly string[] }[];
  ports: readonly { target: number; published?: number | undefined; protocol: 'tcp' | 'udp' }[];
  replicas: number;
  update: SwarmUpdateConfig;
  rollback: SwarmUpdateConfig;
  restart: 'none' | 'on-failure' | 'any';
  /** The rest of Swarm's restart policy (deploy.restart_policy); unset: Swarm's defaults (5 s, unlimited, no window). */
  restartDelayMs?: number | undefined;
  restartMaxAttempts?: number | undefined;
  restartWindowMs?: number | undefined;
  /** Changed from the service's current value, Swarm replaces every task even if nothing else changed (`docker service update --force`). */
  forceUpdate?: number | undefined;
  /** `global`: one task on every node that meets the constraints (replicas ignored). Default replicated. */
  mode?: 'replicated' | 'global' | undefined;
  /** Placement constraints, e.g. `node.labels.region==us-east-1`, `node.id!=abc`. */
  constraints?: readonly string[] | undefined;
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

export interface BuildOptions {
  /** Directory sent as the build context (`.dockerignore` honoured). */
  contextDir: string;
  tag: string;
  /** Further `repo:tag` names given to the built image. */
  extraTags?: readonly string[];
  /** Dockerfile path relative to the context (default `Dockerfile`). */
  dockerfile?: string;
  /** Dockerfile text to build instead of the file (sent in the context as a temporary entry). */
  dockerfileContent?: string;
  /** Generated files added to the context (name → text), e.g. a file a `COPY` picks up; never written to disk. */
  contextFiles?: Readonly<Record<string, string>>;
  labels?: Readonly<Record<string, string>>;
  buildArgs?: Readonly<Record<string, string>>;
  /** Multi-stage target. */
  target?: string;
  noCache?: boolean;
  /** Always attempt to pull newer base images. */
  pull?: boolean;
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface ImageSummary {
  id: string;
  tags: readonly string[];
  labels: Readonly<Record<string, string>>;
}

/** One image, inspected. */
export interface ImageDetails {
  id: string;
  tags: readonly string[];
  labels: Readonly<Record<string, string>>;
  /** ISO time the image was created. */
  created: string;
  /** Parent image id (locally built images only; empty otherwise). */
  parent: string;
  env: readonly string[];
  entrypoint: readonly string[] | undefined;
  cmd: readonly string[] | undefined;
  workingDir: string;
  user: string;
  /** ONBUILD triggers recorded in the image. */
  onBuild: readonly string[];
  /** Layer diff ids, oldest first (an image built FROM another starts with its layers). */
  layers: readonly string[];
  size: number;
}

/** Engine events (`docker events`), kiboko's view. */
export interface EngineEvent {
  /** container, image, network, volume, daemon, service, node, ... */
  type: string;
  /** create, start, die, oom, kill, stop, destroy, `health_status: healthy`, ... */
  action: string;
  /** The object's id (container id, image id, ...). */
  id: string;
  /** Actor attributes: name, image, labels, exitCode, ... */
  attributes: Readonly<Record<string, string>>;
  /** Unix seconds. */
  time: number;
  /** Unix nanoseconds, as a decimal string (exact). */
  timeNano: string;
  scope: string;
}

export interface EventsOptions {
  /** Replay events since this time: unix seconds (may be fractional) or an ISO date. */
  since?: number | string;
  /** Stop after this time (the stream then ends). */
  until?: number | string;
  /** Engine filters, e.g. `{ type: ['container'], event: ['die'], label: ['a=b'] }`. */
  filters?: Readonly<Record<string, readonly string[]>>;
  signal?: AbortSignal;
}

export interface LogsOptions {
  /** Lines from the end (default all). */
  tail?: number;
  /** Unix seconds. */
  since?: number;
  timestamps?: boolean;
}
