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
  /** The healthcheck's most recent run, as the engine keeps it (State.Health.Log), when there was one. */
  lastHealthcheck?: HealthcheckRun | undefined;
  /** Consecutive failed healthcheck runs (State.Health.FailingStreak). */
  failingStreak?: number | undefined;
  /** Image id the container runs. */
  imageId: string;
  /** Whether it binds host ports (published ports, publish-all, or the host's network): a copy cannot run beside it. */
  publishesPorts?: boolean | undefined;
}

/** `cloneContainer`: the copy's image and name. */
export interface CloneOptions {
  image: string;
  name: string;
  /** Labels added to (or replacing) the copy's. */
  labels?: Readonly<Record<string, string>> | undefined;
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
  /** Ports exposed without publishing (`80`, `53/udp`). */
  expose?: readonly string[] | undefined;
  /** Published ports. */
  ports?: readonly { target: number; protocol: 'tcp' | 'udp'; published?: number | undefined; hostIp?: string | undefined }[];
  /** Networks to join, with DNS aliases and fixed addresses on each; the first is joined at create time. */
  networks?: readonly EndpointSpec[];
  healthcheck?: { test: readonly string[]; intervalMs?: number | undefined; timeoutMs?: number | undefined; retries?: number | undefined; startPeriodMs?: number | undefined };
  restartPolicy?: { name: 'no' | 'always' | 'on-failure' | 'unless-stopped'; maximumRetryCount?: number | undefined };
  capDrop?: readonly string[] | undefined;
  privileged?: boolean | undefined;
  /** OCI runtime (`runc`, `io.containerd.wasmedge.v1`, …). */
  runtime?: string | undefined;
  hostname?: string | undefined;
  domainname?: string | undefined;
  macAddress?: string | undefined;
  sysctls?: Readonly<Record<string, string>> | undefined;
  /** OCI annotations (HostConfig.Annotations): Engine API 1.43 (Docker 24) and newer only. */
  annotations?: Readonly<Record<string, string>> | undefined;
  ulimits?: readonly { name: string; soft: number; hard: number }[] | undefined;
  logConfig?: { driver: string; options?: Readonly<Record<string, string>> | undefined } | undefined;
  /** `/dev/host[:/dev/container[:rwm]]`. */
  devices?: readonly { pathOnHost: string; pathInContainer: string; cgroupPermissions: string }[] | undefined;
  /** Device cgroup rules (`c 1:3 mr`). */
  deviceCgroupRules?: readonly string[] | undefined;
  /** GPU and other device requests (compose `deploy.resources.reservations.devices`, `gpus`). */
  deviceRequests?: readonly { driver?: string | undefined; count?: number | undefined; deviceIds?: readonly string[] | undefined; capabilities: readonly string[]; options?: Readonly<Record<string, string>> | undefined }[] | undefined;
  /** Container path → mount options (`size=64m,mode=1777`, or ''). */
  tmpfs?: Readonly<Record<string, string>> | undefined;
  /** Mounts with options binds cannot say (tmpfs size, volume nocopy, bind propagation). */
  mounts?: readonly MountSpec[] | undefined;
  readonlyRootfs?: boolean | undefined;
  tty?: boolean | undefined;
  openStdin?: boolean | undefined;
  ipcMode?: string | undefined;
  pidMode?: string | undefined;
  utsMode?: string | undefined;
  usernsMode?: string | undefined;
  cgroupnsMode?: 'host' | 'private' | undefined;
  dns?: readonly string[] | undefined;
  dnsSearch?: readonly string[] | undefined;
  dnsOptions?: readonly string[] | undefined;
  /** `host:ip` entries for /etc/hosts. */
  extraHosts?: readonly string[] | undefined;
  /** Legacy links, `container:alias`. */
  links?: readonly string[] | undefined;
  /** `container[:ro|:rw]`. */
  volumesFrom?: readonly string[] | undefined;
  securityOpt?: readonly string[] | undefined;
  groupAdd?: readonly string[] | undefined;
  storageOpt?: Readonly<Record<string, string>> | undefined;
  shmSize?: number | undefined;
  /** Memory limit in bytes. */
  memory?: number | undefined;
  memoryReservation?: number | undefined;
  memorySwap?: number | undefined;
  memorySwappiness?: number | undefined;
  /** CPUs in units of 1e-9 (compose `cpus: 0.5` → 5e8). */
  nanoCpus?: number | undefined;
  cpuShares?: number | undefined;
  cpuQuota?: number | undefined;
  cpuPeriod?: number | undefined;
  cpuRtRuntime?: number | undefined;
  cpuRtPeriod?: number | undefined;
  cpusetCpus?: string | undefined;
  cpusetMems?: string | undefined;
  pidsLimit?: number | undefined;
  oomKillDisable?: boolean | undefined;
  oomScoreAdj?: number | undefined;
  blkioWeight?: number | undefined;
}

/** One network a container joins. */
export interface EndpointSpec {
  name: string;
  aliases?: readonly string[] | undefined;
  ipv4Address?: string | undefined;
  ipv6Address?: string | undefined;
  linkLocalIps?: readonly string[] | undefined;
  macAddress?: string | undefined;
}

/** A mount with options (the Engine API's HostConfig.Mounts). */
export interface MountSpec {
  type: 'bind' | 'volume' | 'tmpfs' | 'npipe';
  source?: string | undefined;
  target: string;
  readOnly?: boolean | undefined;
  consistency?: string | undefined;
  bind?: { propagation?: string | undefined; createHostPath?: boolean | undefined } | undefined;
  volume?: { noCopy?: boolean | undefined; subpath?: string | undefined; labels?: Readonly<Record<string, string>> | undefined; driver?: string | undefined; driverOptions?: Readonly<Record<string, string>> | undefined } | undefined;
  tmpfs?: { sizeBytes?: number | undefined; mode?: number | undefined } | undefined;
}

/** How a network is created (a bridge with the engine's defaults when empty). */
export interface NetworkOptions {
  driver?: string | undefined;
  driverOpts?: Readonly<Record<string, string>> | undefined;
  ipam?: { driver?: string | undefined; config?: readonly { subnet?: string | undefined; ipRange?: string | undefined; gateway?: string | undefined; auxAddresses?: Readonly<Record<string, string>> | undefined }[] | undefined; options?: Readonly<Record<string, string>> | undefined } | undefined;
  internal?: boolean | undefined;
  attachable?: boolean | undefined;
  enableIpv6?: boolean | undefined;
}

/** How a volume is created (the local driver when empty). */
export interface VolumeOptions {
  driver?: string | undefined;
  driverOpts?: Readonly<Record<string, string>> | undefined;
}

/** A Swarm secret or config (its data is never read back). */
export interface SwarmObject {
  id: string;
  name: string;
  labels: Readonly<Record<string, string>>;
}

/** A piece of a container's log. */
export interface LogChunk {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface VolumeSummary {
  name: string;
  driver: string;
  labels: Readonly<Record<string, string>>;
}

/** A network, inspected: its settings as the engine holds them. */
export interface NetworkDetails extends NetworkSummary, NetworkOptions {
  /** Containers attached (id → name). */
  containers: Readonly<Record<string, string>>;
}

export type HealthStatus = 'none' | 'starting' | 'healthy' | 'unhealthy';

/** One run of a container's healthcheck: when it started, its exit code and its output (the engine keeps the last 4 KiB). */
export interface HealthcheckRun {
  start: string;
  exitCode: number;
  output: string;
}

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
  /** Placement preferences: spread over the values of these node labels/attributes. */
  spread?: readonly string[] | undefined;
  maxReplicasPerNode?: number | undefined;
  /** Swarm secrets/configs mounted as files in the tasks. */
  secrets?: readonly SwarmFileRef[] | undefined;
  configs?: readonly SwarmFileRef[] | undefined;
  resources?: {
    limits?: { nanoCpus?: number | undefined; memoryBytes?: number | undefined; pids?: number | undefined } | undefined;
    reservations?: { nanoCpus?: number | undefined; memoryBytes?: number | undefined; genericResources?: readonly { kind: string; value: string | number }[] | undefined } | undefined;
  } | undefined;
  endpointMode?: 'vip' | 'dnsrr' | undefined;
  hostname?: string | undefined;
  capAdd?: readonly string[] | undefined;
  capDrop?: readonly string[] | undefined;
  sysctls?: Readonly<Record<string, string>> | undefined;
  ulimits?: readonly { name: string; soft: number; hard: number }[] | undefined;
  tty?: boolean | undefined;
  openStdin?: boolean | undefined;
  readOnly?: boolean | undefined;
  init?: boolean | undefined;
  dns?: readonly string[] | undefined;
  dnsSearch?: readonly string[] | undefined;
  dnsOptions?: readonly string[] | undefined;
  /** `ip host` lines for /etc/hosts. */
  hosts?: readonly string[] | undefined;
  /** tmpfs mounts (container path → size in bytes, or undefined). */
  tmpfs?: readonly { target: string; sizeBytes?: number | undefined; mode?: number | undefined }[] | undefined;
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
  /** `repo@sha256:…` per registry the image was pulled from or pushed to (the registry's manifest/index digest). */
  repoDigests?: readonly string[] | undefined;
}

/** Credentials the engine passes to a registry for one pull (X-Registry-Auth). */
export interface RegistryAuth {
  username?: string | undefined;
  password?: string | undefined;
  identitytoken?: string | undefined;
  serveraddress: string;
}

/** One progress message of a pull, as the engine streams it (per layer when `id` is a layer). */
export interface PullProgress {
  /** The layer (short digest), or the tag/digest for whole-image messages. */
  id?: string | undefined;
  /** `Pulling fs layer`, `Downloading`, `Extracting`, `Pull complete`, `Already exists`, `Digest: …`… */
  status: string;
  /** Bytes done and in all, while downloading or extracting. */
  current?: number | undefined;
  total?: number | undefined;
}

export interface PullOptions {
  auth?: RegistryAuth | undefined;
  signal?: AbortSignal | undefined;
  /** Fail (and abort the pull) when the engine reports no progress for this long. */
  stallTimeoutMs?: number | undefined;
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
