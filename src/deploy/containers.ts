import { COMPOSE_LABELS, LABELS } from '../common/labels.js';
import type { ContainerSpec, EndpointSpec } from '../engine/index.js';
import { canonicalJson, configHash, type ContainerConfig } from './hash.js';
import { ENGINE_SETTINGS, RENAMED_ENGINE_SETTINGS, type EngineSettings, type RenamedEngineSettings, type SystemConfig, type VolumeMount } from './model.js';

export const defaultNetwork = (project: string): string => `${project}_default`;
export const projectNetwork = (project: string, name: string): string => `${project}_${name}`;
export const projectVolume = (project: string, name: string): string => `${project}_${name}`;

/** What `com.docker.compose.version` says on what kiboko creates: the compose behaviour it follows, and who wrote it. */
export const COMPOSE_VERSION = '2.0.0-kiboko';

/** The parts of a configuration that name engine objects (a full SystemConfig fits). */
export type ProjectNames = Pick<SystemConfig, 'project' | 'networkDefinitions' | 'volumeDefinitions' | 'projectDir' | 'sources'> & {
  services?: SystemConfig['services'];
};

/** The engine name of a network of the file (`name:`/external honoured; else `<project>_<key>`). */
export function networkName(p: ProjectNames, key: string): string {
  return p.networkDefinitions?.[key]?.name ?? projectNetwork(p.project, key);
}

/** The engine name of a named volume of the file. */
export function volumeName(p: ProjectNames, key: string): string {
  return p.volumeDefinitions?.[key]?.name ?? projectVolume(p.project, key);
}

/**
 * The networks a service's containers join, as keys of the file: those it lists — the default
 * network only when it lists none (compose's rule) — and none when it shares another namespace
 * (`network_mode`). Higher `priority` first, then as listed.
 */
export function serviceNetworks(s: Pick<ContainerConfig, 'networks' | 'networkMode' | 'networkSettings'>): string[] {
  if (s.networkMode) return [];
  const listed = s.networks.length ? [...s.networks] : ['default'];
  return listed
    .map((n, i) => ({ n, i, p: s.networkSettings?.[n]?.priority ?? 0 }))
    .sort((a, b) => b.p - a.p || a.i - b.i)
    .map((x) => x.n);
}

/** The network a service's front proxy and dependents reach its replicas on (engine name), or undefined when it has none of its own. */
export function primaryNetwork(p: ProjectNames, s: Pick<ContainerConfig, 'networks' | 'networkMode' | 'networkSettings'>): string | undefined {
  const first = serviceNetworks(s)[0];
  return first === undefined ? undefined : networkName(p, first);
}

/** A service's volumes as engine binds (`source:/target[:ro]`) and anonymous volume paths; `named` maps a named volume to its engine name. */
export function volumeMounts(volumes: readonly VolumeMount[], named: (name: string) => string): { binds: string[]; anonymous: string[] } {
  const binds: string[] = [];
  const anonymous: string[] = [];
  for (const v of volumes) {
    if (v.type === 'anonymous' || !v.source) anonymous.push(v.target);
    else binds.push(`${v.type === 'volume' ? named(v.source) : v.source}:${v.target}${v.readOnly ? ':ro' : ''}`);
  }
  return { binds, anonymous };
}

/** compose v2's container name: `container_name:`, else `<project>-<service>-<n>`. */
export function replicaName(project: string, service: string, slot: number, containerName?: string | undefined): string {
  return containerName ?? `${project}-${service}-${slot}`;
}

/** The name a replica has while the one it replaces still holds the compose name (start-first). */
export function interimName(project: string, service: string, slot: number, hash: string, containerName?: string | undefined): string {
  return `${replicaName(project, service, slot, containerName)}-${hash.slice(0, 8)}`;
}

/** The container that `service:<name>` (network_mode, ipc, pid, volumes_from, links) points at: the first replica of that service. */
function serviceContainer(p: ProjectNames, service: string): string {
  return replicaName(p.project, service, 1, p.services?.find((s) => s.name === service)?.containerName);
}

/** `service:x` → `container:<x's first replica>`; anything else as written. */
function namespaceRef(p: ProjectNames, mode: string | undefined): string | undefined {
  if (mode?.startsWith('service:')) return `container:${serviceContainer(p, mode.slice('service:'.length))}`;
  return mode;
}

/** `service:x[:ro]` / `container:x[:ro]` → the engine's `container[:ro]`. */
function volumesFromRef(p: ProjectNames, ref: string): string {
  const [kind, name, mode] = ref.includes(':') ? ref.split(':') : ['service', ref, undefined];
  const target = kind === 'container' ? name! : serviceContainer(p, name!);
  return mode ? `${target}:${mode}` : target;
}

/** Memory, CPU and pids settings: the service-level keys, with `deploy.resources` limits over them (compose on one engine). */
function resourceFields(cfg: ContainerConfig): Partial<ContainerSpec> {
  const r = cfg.resources ?? {};
  const limits = cfg.deploy?.resources?.limits;
  const reservations = cfg.deploy?.resources?.reservations;
  const cpus = limits?.cpus ?? r.cpus;
  return {
    memory: limits?.memoryBytes ?? r.memoryBytes,
    memorySwap: r.memorySwapBytes,
    memoryReservation: reservations?.memoryBytes ?? r.memoryReservationBytes,
    memorySwappiness: r.memSwappiness,
    nanoCpus: cpus === undefined ? undefined : Math.round(cpus * 1e9),
    cpuShares: r.cpuShares,
    cpusetCpus: r.cpuset,
    cpuQuota: r.cpuQuota,
    cpuPeriod: r.cpuPeriod,
    cpuRtPeriod: r.cpuRtPeriod,
    cpuRtRuntime: r.cpuRtRuntime,
    pidsLimit: limits?.pids ?? r.pidsLimit,
    oomKillDisable: r.oomKillDisable,
    oomScoreAdj: r.oomScoreAdj,
    blkioWeight: r.blkioWeight,
  };
}

/** `restart:`, or `deploy.restart_policy` when restart is unset (compose maps any → always, none → no). */
function restartPolicy(cfg: ContainerConfig): ContainerSpec['restartPolicy'] {
  const rp = cfg.deploy?.restartPolicy;
  if (cfg.restart !== 'no' || !rp) return { name: cfg.restart, maximumRetryCount: cfg.restart === 'on-failure' ? rp?.maxAttempts : undefined };
  if (rp.condition === 'any') return { name: 'always' };
  if (rp.condition === 'on-failure') return { name: 'on-failure', maximumRetryCount: rp.maxAttempts };
  return { name: 'no' };
}

function devices(cfg: ContainerConfig): Pick<ContainerSpec, 'devices' | 'deviceRequests'> {
  const plain = (cfg.devices ?? []).filter((d) => d.source.startsWith('/'));
  // CDI names (`vendor.com/class=name`) go as requests to the CDI driver.
  const cdi = (cfg.devices ?? []).filter((d) => !d.source.startsWith('/'));
  const requests = [...(cfg.gpus ?? []), ...(cfg.deploy?.resources?.reservations?.devices ?? []), ...(cdi.length ? [{ driver: 'cdi', capabilities: [], deviceIds: cdi.map((d) => d.source) }] : [])];
  return {
    devices: plain.length ? plain.map((d) => ({ pathOnHost: d.source, pathInContainer: d.target ?? d.source, cgroupPermissions: d.permissions ?? 'rwm' })) : undefined,
    deviceRequests: requests.length ? requests : undefined,
  };
}

/** docker compose's labels for one replica, so `docker compose ps/logs` list it as the project's. */
export function composeLabels(p: ProjectNames, service: string, slot: number, hash: string): Record<string, string> {
  return {
    [COMPOSE_LABELS.project]: p.project,
    [COMPOSE_LABELS.service]: service,
    [COMPOSE_LABELS.containerNumber]: String(slot),
    [COMPOSE_LABELS.oneoff]: 'False',
    [COMPOSE_LABELS.configHash]: hash,
    [COMPOSE_LABELS.workingDir]: p.projectDir ?? (p.sources[0] ? p.sources[0].replace(/\/[^/]*$/, '') : ''),
    // compose lists the compose files only (the sources also name .env and env_file files).
    [COMPOSE_LABELS.configFiles]: p.sources.filter((f) => /\.ya?ml$/i.test(f)).join(','),
    [COMPOSE_LABELS.version]: COMPOSE_VERSION,
  };
}

/** Labels for a project network or volume kiboko creates (compose's and kiboko's). */
export function objectLabels(p: ProjectNames, kind: 'network' | 'volume', key: string, own: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return {
    ...own,
    [LABELS.managed]: 'true',
    [LABELS.deployProject]: p.project,
    [COMPOSE_LABELS.project]: p.project,
    [kind === 'network' ? COMPOSE_LABELS.network : COMPOSE_LABELS.volume]: key,
    [COMPOSE_LABELS.version]: COMPOSE_VERSION,
  };
}

/** The settings a service gives its containers unchanged: ENGINE_SETTINGS, and RENAMED_ENGINE_SETTINGS under the engine's names. */
function engineSettings(cfg: EngineSettings & RenamedEngineSettings): Partial<ContainerSpec> {
  const out: Partial<ContainerSpec> = {};
  for (const k of ENGINE_SETTINGS) copySetting(out, k, cfg[k]);
  for (const k of RENAMED_KEYS) copySetting(out, RENAMED_ENGINE_SETTINGS[k], cfg[k]);
  return out;
}

const RENAMED_KEYS = Object.keys(RENAMED_ENGINE_SETTINGS) as (keyof typeof RENAMED_ENGINE_SETTINGS)[];

function copySetting<K extends keyof ContainerSpec>(out: Partial<ContainerSpec>, key: K, value: ContainerSpec[K]): void {
  out[key] = value;
}

/**
 * The engine spec of one replica: the service's container config, compose's name and labels
 * and kiboko's. `publish: false` when a front proxy holds the service's host ports: the replica
 * only exposes them. `name` overrides the compose name (an interim name during start-first).
 */
export function replicaSpec(p: ProjectNames, service: string, slot: number, cfg: ContainerConfig, revision: number, publish = true, name?: string): ContainerSpec & { name: string } {
  const hash = configHash(cfg);
  const { binds, anonymous } = volumeMounts(cfg.volumes, (named) => volumeName(p, named));
  const mode = namespaceRef(p, cfg.networkMode);
  // Ports cannot be published from a shared namespace (host: they are the host's already).
  const ports = mode && mode !== 'bridge' ? [] : publish ? cfg.ports : [];
  const networks: EndpointSpec[] = serviceNetworks(cfg).map((key) => {
    const n = cfg.networkSettings?.[key];
    return {
      name: networkName(p, key),
      aliases: [service, ...(n?.aliases ?? []).filter((a) => a !== service)],
      ipv4Address: n?.ipv4Address,
      ipv6Address: n?.ipv6Address,
      linkLocalIps: n?.linkLocalIps,
      macAddress: n?.macAddress,
    };
  });
  const spec: ContainerSpec & { name: string } = {
    name: name ?? replicaName(p.project, service, slot, cfg.containerName),
    image: cfg.image,
    cmd: cfg.command,
    entrypoint: cfg.entrypoint,
    env: Object.entries(cfg.environment).map(([k, v]) => `${k}=${v}`),
    labels: {
      ...cfg.labels,
      ...composeLabels(p, service, slot, hash),
      [LABELS.managed]: 'true',
      [LABELS.deployProject]: p.project,
      [LABELS.deployService]: service,
      [LABELS.deploySlot]: String(slot),
      [LABELS.deployHash]: hash,
      [LABELS.deployConfig]: canonicalJson(cfg),
      [LABELS.deployRevision]: String(revision),
    },
    ports,
    ...engineSettings(cfg),
    binds,
    volumes: anonymous,
    networks,
    networkMode: mode,
    healthcheck: cfg.healthcheck,
    restartPolicy: restartPolicy(cfg),
    stopTimeout: cfg.stopGracePeriodMs === undefined ? undefined : Math.ceil(cfg.stopGracePeriodMs / 1000),
    ulimits: cfg.ulimits ? Object.entries(cfg.ulimits).map(([n, u]) => ({ name: n, soft: u.soft, hard: u.hard })) : undefined,
    logConfig: cfg.logging ? { driver: cfg.logging.driver ?? '', options: cfg.logging.options } : undefined,
    ...devices(cfg),
    ipcMode: namespaceRef(p, cfg.ipc),
    pidMode: namespaceRef(p, cfg.pid),
    links: [
      ...(cfg.links ?? []).map((l) => {
        const [svc, alias] = l.split(':');
        return `${serviceContainer(p, svc!)}:${alias ?? svc}`;
      }),
      ...(cfg.externalLinks ?? []).map((l) => (l.includes(':') ? l : `${l}:${l}`)),
    ],
    volumesFrom: cfg.volumesFrom?.map((v) => volumesFromRef(p, v)),
    ...resourceFields(cfg),
  };
  if (!spec.links?.length) delete spec.links;
  return spec;
}
