/** Containers as kiboko sees them: references, summaries, details, and the options of their operations. */

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

export type HealthStatus = 'none' | 'starting' | 'healthy' | 'unhealthy';

/** One run of a container's healthcheck: when it started, its exit code and its output (the engine keeps the last 4 KiB). */
export interface HealthcheckRun {
  start: string;
  exitCode: number;
  output: string;
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

/** A piece of a container's log. */
export interface LogChunk {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface LogsOptions {
  /** Lines from the end (default all). */
  tail?: number;
  /** Unix seconds. */
  since?: number;
  timestamps?: boolean;
}
