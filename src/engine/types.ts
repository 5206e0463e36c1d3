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

export interface BuildOptions {
  /** Directory sent as the build context. */
  contextDir: string;
  tag: string;
  dockerfile?: string;
  labels?: Readonly<Record<string, string>>;
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface ImageSummary {
  id: string;
  tags: readonly string[];
  labels: Readonly<Record<string, string>>;
}
