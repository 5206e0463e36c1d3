/**
 * kiboko's deploy model: what a system configuration says each service runs. Compose files and
 * fleet-style unit files both translate into this; plan, apply, hashing and Swarm read only this.
 */

import type { ContainerSpec, SwarmPlacement } from '../engine/index.js';

export interface PortMapping {
  /** Host port; undefined lets the engine pick one. */
  published?: number | undefined;
  /** Host IP to bind, e.g. 127.0.0.1; undefined binds all. */
  hostIp?: string | undefined;
  target: number;
  protocol: 'tcp' | 'udp';
}

export interface VolumeMount {
  /** Named volume, host path (bind), or undefined for an anonymous volume. */
  source?: string | undefined;
  target: string;
  type: 'volume' | 'bind' | 'anonymous';
  readOnly: boolean;
  /** Set only when written (so older specs hash the same): bind propagation, SELinux relabel, … */
  propagation?: 'shared' | 'slave' | 'private' | 'rshared' | 'rslave' | 'rprivate' | undefined;
  selinux?: 'z' | 'Z' | undefined;
  /** A named volume is not filled from the image's content. */
  nocopy?: boolean | undefined;
  /** Mount only this folder of the volume. */
  subpath?: string | undefined;
  /** false: fail when a bind source is missing instead of creating it. */
  createHostPath?: boolean | undefined;
}

export interface Healthcheck {
  /** `["CMD", …]`, `["CMD-SHELL", "…"]`, or `["NONE"]` to disable the image's. */
  test: readonly string[];
  intervalMs?: number | undefined;
  timeoutMs?: number | undefined;
  retries?: number | undefined;
  startPeriodMs?: number | undefined;
}

export type DependsCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface UpdateConfig {
  /** Replicas replaced at once; 0 means all. Default 1. */
  parallelism: number;
  delayMs: number;
  failureAction: 'rollback' | 'pause' | 'continue';
  /** How long after a replica is replaced a failure still counts. Default 5s (swarmkit). */
  monitorMs: number;
  maxFailureRatio: number;
  order: 'start-first' | 'stop-first';
}

export interface RollbackConfig extends Omit<UpdateConfig, 'failureAction'> {
  failureAction: 'pause' | 'continue';
}

/**
 * `x-kiboko.tag-policy`: pin one tag (a deploy hook may set any tag), follow the newest
 * `<build>-<branch>` tag of a branch, or accept only semver tags (never older; `major` locks the
 * major version) or tags matching an RE2 pattern. See `parseTagPolicy` and `checkTagPolicy`.
 */
export type TagPolicy =
  | { kind: 'pinned' }
  | { kind: 'follow-branch'; branch: string }
  | { kind: 'semver'; lock?: 'major' | undefined }
  | { kind: 'regex'; pattern: string };

/**
 * A service's config kept in step with its dependencies (`x-kiboko: { config: … }`): a confd
 * folder (`conf.d/*.toml` + `templates/`) rendered into each running container with keys that
 * describe the services it depends on (`/deps/<service>/address`, `…/host`, `…/port`, …), and
 * re-rendered — then reloaded, never restarted — whenever a dependency gets new containers.
 */
export interface ServiceTemplates {
  /** Absolute path of the confd folder. */
  confdir: string;
  /** Run in each container after any of its files changed (besides each resource's reload_cmd). */
  reload?: readonly string[] | undefined;
}

/**
 * `x-kiboko: { gate: validate }` (or `{ method: validate, timeout: 20s }`): a new replica is ready
 * only once this lifecycle method exits 0 in it. A rollout setting, like update_config: changing
 * it never recreates containers.
 */
export interface DeployGate {
  method: string;
  /** How long the method may keep failing once the replica runs (default: the health timeout). */
  timeoutMs?: number | undefined;
}

/**
 * Top-level `x-kiboko: { post_deploy_tests: { type: integration, timeout: 5m } }`: after a
 * successful apply, the project's test containers (images labelled `test.type=<type>`) must pass,
 * else the revision is marked failed and rolled back (`deploy apply --require-tests` overrides it).
 */
export interface PostDeployTests {
  type: string;
  /** Per test container (default: the integration runner's, 10 min). */
  timeoutMs?: number | undefined;
}

// ——— Compose Specification keys one engine honours (all optional: unset keys never reach the hash) ———

/** The container settings its RUN steps take as the service's containers do (`extra_hosts`, `shm_size`, `ulimits`). */
type BuildContainerSettings = Pick<ServiceSpec, 'extraHosts' | 'shmSizeBytes' | 'ulimits'>;

/** `build:` as the Engine API's /build takes it. Paths are absolute once loaded. */
export interface BuildSpec extends BuildContainerSettings {
  /** Absolute folder, or a git/https URL the engine fetches itself. */
  context: string;
  /** Relative to the context, as compose writes it (default `Dockerfile`); absent with dockerfileInline. */
  dockerfile?: string | undefined;
  dockerfileInline?: string | undefined;
  args?: Readonly<Record<string, string>> | undefined;
  target?: string | undefined;
  labels?: Readonly<Record<string, string>> | undefined;
  cacheFrom?: readonly string[] | undefined;
  /** Network for RUN steps (`host`, `none`, or a network name). */
  network?: string | undefined;
  /** At most one: the engine's builder builds one platform per build. */
  platforms?: readonly string[] | undefined;
  /** Further tags for the built image (besides `image:`). */
  tags?: readonly string[] | undefined;
  noCache?: boolean | undefined;
  /** Always pull the base images. */
  pull?: boolean | undefined;
  isolation?: string | undefined;
}

/** compose's pull_policy; `refresh` pulls when the local image is older than `everyMs` (daily, weekly, every_12h). */
export type PullPolicy = 'always' | 'never' | 'missing' | 'build' | { refresh: { everyMs: number } };

/** A service's `secrets:`/`configs:` entry, with compose's defaults applied (target /run/secrets/<source>, or /<source>). */
export interface FileRef {
  /** Name of the top-level secret/config. */
  source: string;
  /** Absolute path in the container. */
  target: string;
  uid?: string | undefined;
  gid?: string | undefined;
  /** Permission bits (e.g. 0o444). */
  mode?: number | undefined;
}

export interface Ulimit {
  soft: number;
  hard: number;
}

export interface LoggingConfig {
  driver?: string | undefined;
  options?: Readonly<Record<string, string>> | undefined;
}

/** `devices:` entry: `/dev/host[:/dev/container[:rwm]]`, or a CDI name (`vendor.com/class=name`) as source with no target. */
export interface DeviceMapping {
  source: string;
  target?: string | undefined;
  permissions?: string | undefined;
}

/** A device request (`deploy.resources.reservations.devices`, `gpus:`). */
export interface DeviceRequest {
  capabilities: readonly string[];
  driver?: string | undefined;
  /** -1 for `all`. */
  count?: number | undefined;
  deviceIds?: readonly string[] | undefined;
  options?: Readonly<Record<string, string>> | undefined;
}

/** The service-level resource keys (mem_limit, cpus, …), as docker run takes them. */
export interface ContainerResources {
  memoryBytes?: number | undefined;
  /** memswap_limit; -1 for unlimited swap. */
  memorySwapBytes?: number | undefined;
  memoryReservationBytes?: number | undefined;
  memSwappiness?: number | undefined;
  /** Fractional CPUs (`cpus: 1.5`). */
  cpus?: number | undefined;
  cpuShares?: number | undefined;
  cpuset?: string | undefined;
  cpuQuota?: number | undefined;
  cpuPeriod?: number | undefined;
  cpuRtPeriod?: number | undefined;
  cpuRtRuntime?: number | undefined;
  cpuCount?: number | undefined;
  cpuPercent?: number | undefined;
  pidsLimit?: number | undefined;
  oomKillDisable?: boolean | undefined;
  oomScoreAdj?: number | undefined;
  blkioWeight?: number | undefined;
}

/** `deploy.resources.limits` / `reservations`. On one engine compose applies limits over the service-level keys. */
export interface ResourceSet {
  cpus?: number | undefined;
  memoryBytes?: number | undefined;
  pids?: number | undefined;
  /** Reservations only. */
  devices?: readonly DeviceRequest[] | undefined;
  /** Reservations only (Swarm generic resources: kind → value). */
  genericResources?: readonly { kind: string; value: string | number }[] | undefined;
}

export interface RestartPolicy {
  condition: 'none' | 'on-failure' | 'any';
  delayMs?: number | undefined;
  maxAttempts?: number | undefined;
  windowMs?: number | undefined;
}

/** `deploy.placement`: Swarm's placement, with the preferences as compose writes them. */
export interface Placement extends Pick<SwarmPlacement, 'constraints' | 'maxReplicasPerNode'> {
  /** `spread=node.labels.zone` descriptors. */
  preferences?: readonly { spread: string }[] | undefined;
}

/** The `deploy:` keys besides replicas/update_config/rollback_config (which have their own fields). */
export interface DeploySettings {
  mode?: 'replicated' | 'global' | 'replicated-job' | 'global-job' | undefined;
  resources?: { limits?: ResourceSet | undefined; reservations?: ResourceSet | undefined } | undefined;
  restartPolicy?: RestartPolicy | undefined;
  placement?: Placement | undefined;
  /** Labels of the Swarm service (not of its containers). */
  labels?: Readonly<Record<string, string>> | undefined;
  endpointMode?: 'vip' | 'dnsrr' | undefined;
}

/** `post_start` / `pre_stop` hook: a command run inside the container. */
export interface LifecycleHook {
  command: readonly string[];
  user?: string | undefined;
  privileged?: boolean | undefined;
  workingDir?: string | undefined;
  environment?: Readonly<Record<string, string>> | undefined;
}

/** A service's settings on one of its networks (`networks: { back: { aliases: [...] } }`). */
export interface ServiceNetwork {
  aliases?: readonly string[] | undefined;
  ipv4Address?: string | undefined;
  ipv6Address?: string | undefined;
  linkLocalIps?: readonly string[] | undefined;
  macAddress?: string | undefined;
  driverOpts?: Readonly<Record<string, string>> | undefined;
  /** Order of attachment: higher first (compose's `priority`). */
  priority?: number | undefined;
  /** Which network gives the default route (compose's `gw_priority`). */
  gwPriority?: number | undefined;
}

export interface IpamConfig {
  driver?: string | undefined;
  config?: readonly { subnet?: string | undefined; ipRange?: string | undefined; gateway?: string | undefined; auxAddresses?: Readonly<Record<string, string>> | undefined }[] | undefined;
  options?: Readonly<Record<string, string>> | undefined;
}

/**
 * What every top-level network, volume, secret and config has, normalised as `docker compose
 * config` prints it: `name` is the engine's name.
 */
export interface TopLevelObject {
  /** Engine name: `<project>_<key>` unless `name:` is set or it is external (then the key). */
  name: string;
  driver?: string | undefined;
  driverOpts?: Readonly<Record<string, string>> | undefined;
  /** Created elsewhere: kiboko only checks it exists, never creates or removes it. */
  external?: boolean | undefined;
  labels?: Readonly<Record<string, string>> | undefined;
}

/** A top-level network. */
export interface NetworkDefinition extends TopLevelObject {
  ipam?: IpamConfig | undefined;
  internal?: boolean | undefined;
  attachable?: boolean | undefined;
  enableIpv4?: boolean | undefined;
  enableIpv6?: boolean | undefined;
}

/** A top-level volume: nothing besides what every top-level object has. */
export type VolumeDefinition = TopLevelObject;

/**
 * A top-level secret or config (its engine is the Swarm). Exactly one source: `file` (absolute
 * path), `environment` (a variable name, resolved when loading), `content` (configs only), or
 * `external` (exists on the Swarm under `name`).
 */
export interface FileObjectDefinition extends TopLevelObject {
  file?: string | undefined;
  environment?: string | undefined;
  content?: string | undefined;
  templateDriver?: string | undefined;
  /**
   * The value of `environment` when loaded. Not enumerable: it never reaches JSON (the deploy
   * history, labels, `deploy config`); a configuration read back from the history lacks it.
   * Read it with secretValue().
   */
  readonly value?: string | undefined;
}

/** The value of an environment-sourced secret/config, when the configuration was just loaded. */
export function secretValue(def: FileObjectDefinition): string | undefined {
  return def.environment !== undefined ? def.value : def.content;
}

/** Attaches an environment-sourced value without making it enumerable (see FileObjectDefinition.value). */
export function withSecretValue<T extends FileObjectDefinition>(def: T, value: string | undefined): T {
  if (value !== undefined) Object.defineProperty(def, 'value', { value, enumerable: false, writable: false });
  return def;
}

/**
 * The container settings a service names and means exactly as the engine does, so they are
 * declared once, in ContainerSpec, and copied to each replica as they are (compose `tmpfs:`
 * entries and long-syntax tmpfs volumes both land in `tmpfs`).
 */
export const ENGINE_SETTINGS = [
  'user', 'workingDir', 'stopSignal', 'expose', 'hostname', 'domainname', 'macAddress', 'capAdd', 'capDrop', 'privileged', 'runtime', 'sysctls', 'annotations',
  'deviceCgroupRules', 'tmpfs', 'tty', 'init', 'usernsMode', 'cgroupParent', 'dns', 'dnsSearch', 'extraHosts', 'securityOpt', 'groupAdd', 'storageOpt',
] as const satisfies readonly (keyof ContainerSpec)[];

export type EngineSettings = Pick<ContainerSpec, (typeof ENGINE_SETTINGS)[number]>;

/** Engine settings compose names its own way: the service's key → the engine's (ContainerSpec), copied unchanged. */
export const RENAMED_ENGINE_SETTINGS = {
  readOnly: 'readonlyRootfs',
  stdinOpen: 'openStdin',
  uts: 'utsMode',
  cgroup: 'cgroupnsMode',
  dnsOpt: 'dnsOptions',
  shmSizeBytes: 'shmSize',
} as const satisfies Readonly<Record<string, keyof ContainerSpec>>;

export type RenamedEngineSettings = { [K in keyof typeof RENAMED_ENGINE_SETTINGS]?: ContainerSpec[(typeof RENAMED_ENGINE_SETTINGS)[K]] };

export interface ServiceSpec extends EngineSettings, RenamedEngineSettings {
  name: string;
  /** Image reference as written (`repo/name:tag`). */
  image: string;
  command?: readonly string[] | undefined;
  entrypoint?: readonly string[] | undefined;
  environment: Readonly<Record<string, string>>;
  ports: readonly PortMapping[];
  volumes: readonly VolumeMount[];
  networks: readonly string[];
  labels: Readonly<Record<string, string>>;
  healthcheck?: Healthcheck | undefined;
  dependsOn: readonly { service: string; condition: DependsCondition }[];
  restart: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  /** `restart: on-failure:N`: at most N restarts (set only when written). */
  restartMaxRetries?: number | undefined;
  stopGracePeriodMs?: number | undefined;
  /**
   * On one engine: a digest of the content of each secret and config the service mounts, keyed
   * `secret:<key>` / `config:<key>` (set by withFileDigests when planning). It is part of the
   * config hash, so an edited secret file recreates the containers that mount it, as compose's
   * hash does. Only a digest: the content is never stored.
   */
  fileDigests?: Readonly<Record<string, string>> | undefined;
  replicas: number;
  update: UpdateConfig;
  rollback: RollbackConfig;
  tagPolicy: TagPolicy;
  /** `x-kiboko.config`: config templates rendered into its containers from its dependencies' addresses. */
  templates?: ServiceTemplates | undefined;
  /** `x-kiboko.gate`: a lifecycle method each new replica must pass (like the `kiboko.deploy.gate` label). */
  gate?: DeployGate | undefined;
  /** Where the service was declared, for messages (`compose.yaml:12`). */
  origin?: { file: string; line?: number | undefined } | undefined;

  // Compose keys below are set only when the file uses them, so they never change the hash of older specs.
  build?: BuildSpec | undefined;
  pullPolicy?: PullPolicy | undefined;
  /** Target platform (`linux/arm64`). */
  platform?: string | undefined;
  containerName?: string | undefined;
  secrets?: readonly FileRef[] | undefined;
  configs?: readonly FileRef[] | undefined;
  /** Per-network settings, keyed by names in `networks` (only networks that have any). */
  networkSettings?: Readonly<Record<string, ServiceNetwork>> | undefined;
  /** `host`, `none`, `bridge`, `service:<name>` or `container:<name>`; then `networks` is empty. */
  networkMode?: string | undefined;
  ulimits?: Readonly<Record<string, Ulimit>> | undefined;
  logging?: LoggingConfig | undefined;
  devices?: readonly DeviceMapping[] | undefined;
  /** `gpus:` as device requests. */
  gpus?: readonly DeviceRequest[] | undefined;
  ipc?: string | undefined;
  pid?: string | undefined;
  /** `service[:alias]`. */
  links?: readonly string[] | undefined;
  /** `container[:alias]`. */
  externalLinks?: readonly string[] | undefined;
  /** `service:<name>[:ro|rw]` or `container:<name>[:ro|rw]`, normalised with the prefix. */
  volumesFrom?: readonly string[] | undefined;
  resources?: ContainerResources | undefined;
  deploy?: DeploySettings | undefined;
  postStart?: readonly LifecycleHook[] | undefined;
  preStop?: readonly LifecycleHook[] | undefined;
}

export interface SystemConfig {
  /** Project name: prefixes every object and labels everything kiboko deploys. */
  project: string;
  services: readonly ServiceSpec[];
  /** Named networks (besides the project's default network). */
  networks: readonly string[];
  /** Named volumes. */
  volumes: readonly string[];
  /** Files this configuration was read from. */
  sources: readonly string[];
  /** `x-kiboko.post_deploy_tests`: tests the project must pass after a deploy. */
  postDeployTests?: PostDeployTests | undefined;
  /** The project folder (the first compose file's, or `--project-directory`): relative paths start here. */
  projectDir?: string | undefined;
  /**
   * Top-level networks with their settings, keyed as in the file (`networks` lists the same keys
   * but `default`); `default` is here when the file configures it or a service uses it.
   */
  networkDefinitions?: Readonly<Record<string, NetworkDefinition>> | undefined;
  /** Top-level volumes with their settings, keyed like `volumes`. */
  volumeDefinitions?: Readonly<Record<string, VolumeDefinition>> | undefined;
  secrets?: Readonly<Record<string, FileObjectDefinition>> | undefined;
  configs?: Readonly<Record<string, FileObjectDefinition>> | undefined;
}

/**
 * Swarm's defaults, except two: a failed update rolls back (Swarm pauses, leaving a half-updated
 * service), and start-first (Swarm: stop-first) so replicas never drop below the desired count.
 */
export const DEFAULT_UPDATE: UpdateConfig = {
  parallelism: 1,
  delayMs: 0,
  failureAction: 'rollback',
  monitorMs: 5000,
  maxFailureRatio: 0,
  order: 'start-first',
};

export const DEFAULT_ROLLBACK: RollbackConfig = { ...DEFAULT_UPDATE, failureAction: 'pause' };

/** A service with every default the loaders apply (one replica, Swarm-like rollout, pinned tag). */
export function newService(name: string, image: string, over: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name,
    image,
    environment: {},
    ports: [],
    volumes: [],
    networks: [],
    labels: {},
    dependsOn: [],
    restart: 'no',
    replicas: 1,
    update: DEFAULT_UPDATE,
    rollback: DEFAULT_ROLLBACK,
    tagPolicy: { kind: 'pinned' },
    ...over,
  };
}
