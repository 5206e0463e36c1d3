/**
 * kiboko's deploy model: what a system configuration says each service runs. Compose files and
 * fleet-style unit files both translate into this; plan, apply, hashing and Swarm read only this.
 */

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

export interface ServiceSpec {
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
  /** `deploy.restart_policy`: when set, it wins over `restart:` (as in docker stack deploy and compose). */
  restartPolicy?: RestartPolicy | undefined;
  user?: string | undefined;
  workingDir?: string | undefined;
  stopSignal?: string | undefined;
  stopGracePeriodMs?: number | undefined;
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
}

/** compose's `deploy.restart_policy` (Swarm's task restart policy). */
export interface RestartPolicy {
  condition: 'none' | 'on-failure' | 'any';
  delayMs?: number | undefined;
  /** 0 or unset: unlimited. */
  maxAttempts?: number | undefined;
  windowMs?: number | undefined;
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
