import type {
  BuildOptions,
  CloneOptions,
  ContainerDetails,
  ContainerRef,
  ContainerSpec,
  ContainerStats,
  ContainerSummary,
  EngineInfo,
  EngineSystemInfo,
  ExecOptions,
  EndpointSpec,
  ExecResult,
  ImageDetails,
  NetworkDetails,
  NetworkOptions,
  VolumeOptions,
  VolumeSummary,
  SwarmObject,
  LogChunk,
  ImageSummary,
  EngineEvent,
  EventsOptions,
  LogsOptions,
  ListOptions,
  NetworkSummary,
  PullOptions,
  PullProgress,
  SwarmNode,
  SwarmService,
  SwarmServiceDefinition,
  SwarmTask,
  RemoveOptions,
} from './types.js';

/**
 * The one door to a container engine. Adapters translate engine errors once:
 * 404 → TARGET_NOT_FOUND, 409 → CONFLICT, 304 on start/stop/pause → success (already done),
 * connection failures → ENGINE_UNREACHABLE.
 */
export interface Engine {
  /** Where this engine is reached, e.g. `unix:///var/run/docker.sock`. */
  readonly endpoint: string;
  /**
   * Reaches the engine and agrees on the API version (cheap: no `/version`, which Docker 20.10
   * answers in 10-30 ms); fails as info() does when the engine cannot be reached or is too old.
   */
  ready(): Promise<void>;
  /**
   * Asks the engine now (`GET /_ping`) whether it answers, at every call: ready() and info()
   * keep their first answer, so they cannot tell that an engine has gone or come back.
   */
  ping(): Promise<void>;
  info(): Promise<EngineInfo>;
  /** Host facts: cgroup driver and version, kernel, security options, Swarm state. */
  systemInfo(): Promise<EngineSystemInfo>;
  /** Whether the engine is a Swarm manager: `systemInfo().isManager`, asked as cheaply as the engine allows. */
  isSwarmManager(): Promise<boolean>;
  list(options?: ListOptions): Promise<ContainerSummary[]>;
  inspect(idOrName: string): Promise<ContainerDetails>;
  /** The container's creation settings read back from the engine, as kiboko's spec (what create was given, with the engine's view of it). */
  inspectSpec(idOrName: string): Promise<ContainerSpec & { name: string }>;
  create(spec: ContainerSpec): Promise<ContainerRef>;
  rename(idOrName: string, newName: string): Promise<void>;
  start(id: string): Promise<void>;
  /** Engine stop: the container's stop signal, then SIGKILL after `timeoutSeconds`. */
  stop(id: string, timeoutSeconds: number): Promise<void>;
  kill(id: string, signal: string): Promise<void>;
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  restart(id: string, timeoutSeconds: number): Promise<void>;
  remove(id: string, options?: RemoveOptions): Promise<void>;
  /**
   * Creates (not starts) a copy of a container with another image: the same host config, mounts,
   * networks (aliases, static addresses) and settings; what the old image supplied (env, cmd,
   * entrypoint, labels, healthcheck, …) comes from the new image instead, as Watchtower does.
   */
  cloneContainer(id: string, options: CloneOptions): Promise<ContainerRef>;
  /** Resolves with the exit code once the container is no longer running. */
  wait(id: string, signal?: AbortSignal): Promise<number>;
  exec(id: string, options: ExecOptions): Promise<ExecResult>;
  logs(id: string, options?: LogsOptions): Promise<string>;
  /** Logs as they come (`docker logs -f` with `follow`): ends when the container stops (follow) or the log ends, or `signal` aborts. */
  streamLogs(id: string, options?: LogsOptions & { follow?: boolean; signal?: AbortSignal }): AsyncIterable<LogChunk>;
  /** A one-shot resource sample (CPU and memory counters) from the engine. */
  stats(id: string): Promise<ContainerStats>;
  imageExists(ref: string): Promise<boolean>;
  /**
   * Pulls an image from its registry (resolves when the pull has finished). A failure is one
   * error per cause: REGISTRY_UNAUTHORIZED, TARGET_NOT_FOUND (repository or tag),
   * REGISTRY_RATE_LIMITED, REGISTRY_TLS, REGISTRY_UNREACHABLE (5xx, refused, reset), TIMEOUT (stalled).
   */
  pullImage(ref: string, onProgress?: (line: string, progress?: PullProgress) => void, options?: PullOptions): Promise<void>;
  listImages(labels?: readonly string[]): Promise<ImageSummary[]>;
  removeImage(ref: string, force?: boolean): Promise<void>;
  /** Builds and tags; resolves with the image id. */
  buildImage(options: BuildOptions): Promise<string>;
  inspectImage(ref: string): Promise<ImageDetails>;
  /** Adds a name (`repo:tag`) to an image. */
  tagImage(ref: string, repo: string, tag: string): Promise<void>;
  /** Extracts a tar archive into a directory of a container (created or running). */
  putArchive(id: string, destDir: string, tar: Buffer): Promise<void>;
  /** A tar archive of a path in a container (file or directory, as `docker cp` gives it). */
  getArchive(id: string, path: string): Promise<Buffer>;
  /**
   * The engine's event stream. Ends when `signal` aborts or `until` passes; throws
   * ENGINE_UNREACHABLE when the connection drops (callers reconnect with `since`).
   */
  events(options?: EventsOptions): AsyncIterable<EngineEvent>;
  volumeExists(name: string): Promise<boolean>;
  ensureVolume(name: string, labels?: Readonly<Record<string, string>>, options?: VolumeOptions): Promise<void>;
  listVolumes(labels?: readonly string[]): Promise<VolumeSummary[]>;
  listNetworks(labels?: readonly string[]): Promise<NetworkSummary[]>;
  inspectNetwork(idOrName: string): Promise<NetworkDetails>;
  /** Creates a network (a bridge unless `options.driver` says otherwise) unless one with that name exists; returns its id. */
  ensureNetwork(name: string, labels?: Readonly<Record<string, string>>, options?: NetworkOptions): Promise<string>;
  removeNetwork(idOrName: string): Promise<void>;
  /** Swarm (manager nodes): services by label, create/update/remove, their tasks. */
  listServices(labels?: readonly string[]): Promise<SwarmService[]>;
  inspectService(idOrName: string): Promise<SwarmService>;
  createService(definition: SwarmServiceDefinition): Promise<string>;
  updateService(id: string, version: number, definition: SwarmServiceDefinition): Promise<void>;
  removeService(idOrName: string): Promise<void>;
  listTasks(serviceId: string): Promise<SwarmTask[]>;
  /** The Swarm's nodes (down ones included), this engine's own marked `self`; a task's `nodeId` is one of their ids. */
  listNodes(): Promise<SwarmNode[]>;
  /** Creates an attachable overlay network (Swarm) unless one with that name exists. */
  ensureOverlayNetwork(name: string, labels?: Readonly<Record<string, string>>): Promise<string>;
  /** Joins a container to a further network, with DNS aliases (and fixed addresses). */
  connectNetwork(network: string, container: string, aliases?: readonly string[], endpoint?: Omit<EndpointSpec, 'name' | 'aliases'>): Promise<void>;
  /** Swarm secrets and configs (immutable: a changed content is a new object under a new name). */
  createSwarmObject(kind: 'secret' | 'config', name: string, data: Buffer, labels?: Readonly<Record<string, string>>): Promise<string>;
  listSwarmObjects(kind: 'secret' | 'config', labels?: readonly string[]): Promise<SwarmObject[]>;
  removeSwarmObject(kind: 'secret' | 'config', idOrName: string): Promise<void>;
  removeVolume(name: string): Promise<void>;
  close(): void;
}
