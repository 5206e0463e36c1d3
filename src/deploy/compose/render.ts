/**
 * The resolved, normalised model written back in compose's own vocabulary, as `docker compose
 * config` prints it: every service with its defaults applied, paths absolute, durations and sizes
 * as numbers with units, networks/volumes/secrets/configs with their engine names. Secret values
 * never appear (only the variable a secret is read from).
 */
import type { FileObjectDefinition, ServiceSpec, SystemConfig } from '../model.js';

type Plain = Record<string, unknown>;

const ms = (n: number | undefined) => (n === undefined ? undefined : n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`);
const nonEmpty = <T>(v: readonly T[] | undefined) => (v && v.length ? v : undefined);
const nonEmptyMap = (v: Readonly<Record<string, unknown>> | undefined) => (v && Object.keys(v).length ? v : undefined);

/** Drops undefined values (recursively, in plain objects), so the output has only what is set. */
function clean(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clean);
  if (v && typeof v === 'object') {
    const out: Plain = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = clean(x);
    return out;
  }
  return v;
}

function renderService(s: ServiceSpec): Plain {
  return {
    image: s.image,
    build: s.build && renderBuild(s.build),
    pull_policy: typeof s.pullPolicy === 'object' ? `every_${ms(s.pullPolicy.refresh.everyMs)}` : s.pullPolicy,
    platform: s.platform,
    container_name: s.containerName,
    command: s.command,
    entrypoint: s.entrypoint,
    environment: nonEmptyMap(s.environment),
    labels: nonEmptyMap(s.labels),
    annotations: s.annotations,
    ports: nonEmpty(s.ports)?.map((p) => ({ mode: 'ingress', host_ip: p.hostIp, target: p.target, published: p.published === undefined ? undefined : String(p.published), protocol: p.protocol })),
    expose: s.expose,
    volumes: nonEmpty(s.volumes.map(renderVolume)),
    tmpfs: s.tmpfs && Object.entries(s.tmpfs).map(([p, o]) => (o ? `${p}:${o}` : p)),
    network_mode: s.networkMode,
    networks: s.networkMode ? undefined : renderNetworks(s),
    secrets: s.secrets,
    configs: s.configs,
    depends_on: s.dependsOn.length ? Object.fromEntries(s.dependsOn.map((x) => [x.service, { condition: x.condition, required: true }])) : undefined,
    healthcheck: s.healthcheck && {
      test: s.healthcheck.test,
      interval: ms(s.healthcheck.intervalMs),
      timeout: ms(s.healthcheck.timeoutMs),
      retries: s.healthcheck.retries,
      start_period: ms(s.healthcheck.startPeriodMs),
    },
    restart: s.restartMaxRetries !== undefined ? `${s.restart}:${s.restartMaxRetries}` : s.restart,
    user: s.user,
    working_dir: s.workingDir,
    stop_signal: s.stopSignal,
    stop_grace_period: ms(s.stopGracePeriodMs),
    hostname: s.hostname,
    domainname: s.domainname,
    mac_address: s.macAddress,
    cap_add: s.capAdd,
    cap_drop: s.capDrop,
    privileged: s.privileged,
    runtime: s.runtime,
    sysctls: s.sysctls,
    ulimits: s.ulimits,
    logging: s.logging,
    devices: s.devices,
    device_cgroup_rules: s.deviceCgroupRules,
    gpus: s.gpus,
    read_only: s.readOnly,
    tty: s.tty,
    stdin_open: s.stdinOpen,
    init: s.init,
    ipc: s.ipc,
    pid: s.pid,
    uts: s.uts,
    userns_mode: s.usernsMode,
    cgroup: s.cgroup,
    cgroup_parent: s.cgroupParent,
    dns: s.dns,
    dns_search: s.dnsSearch,
    dns_opt: s.dnsOpt,
    extra_hosts: s.extraHosts,
    links: s.links,
    external_links: s.externalLinks,
    volumes_from: s.volumesFrom,
    security_opt: s.securityOpt,
    shm_size: s.shmSizeBytes,
    group_add: s.groupAdd,
    storage_opt: s.storageOpt,
    ...renderResources(s.resources),
    post_start: s.postStart?.map(renderHook),
    pre_stop: s.preStop?.map(renderHook),
    deploy: renderDeploy(s),
  };
}

function renderBuild(b: NonNullable<ServiceSpec['build']>): Plain {
  return {
    context: b.context,
    dockerfile: b.dockerfile,
    dockerfile_inline: b.dockerfileInline,
    args: b.args,
    target: b.target,
    labels: b.labels,
    cache_from: b.cacheFrom,
    network: b.network,
    shm_size: b.shmSizeBytes,
    extra_hosts: b.extraHosts,
    platforms: b.platforms,
    tags: b.tags,
    no_cache: b.noCache,
    pull: b.pull,
    ulimits: b.ulimits,
    isolation: b.isolation,
  };
}

function renderVolume(v: ServiceSpec['volumes'][number]): Plain {
  return {
    type: v.type === 'anonymous' ? 'volume' : v.type,
    source: v.source,
    target: v.target,
    read_only: v.readOnly || undefined,
    bind: v.type === 'bind' && (v.propagation || v.selinux || v.createHostPath !== undefined) ? { propagation: v.propagation, selinux: v.selinux, create_host_path: v.createHostPath } : undefined,
    volume: v.nocopy || v.subpath ? { nocopy: v.nocopy, subpath: v.subpath } : undefined,
  };
}

function renderNetworks(s: ServiceSpec): Plain {
  return Object.fromEntries(
    s.networks.map((n) => {
      const x = s.networkSettings?.[n];
      return [n, x ? { aliases: x.aliases, ipv4_address: x.ipv4Address, ipv6_address: x.ipv6Address, link_local_ips: x.linkLocalIps, mac_address: x.macAddress, driver_opts: x.driverOpts, priority: x.priority, gw_priority: x.gwPriority } : null];
    }),
  );
}

/** The container resource settings (compose's top-level mem_limit, cpus, … keys). */
function renderResources(r: ServiceSpec['resources']): Plain {
  return {
    mem_limit: r?.memoryBytes,
    memswap_limit: r?.memorySwapBytes,
    mem_reservation: r?.memoryReservationBytes,
    mem_swappiness: r?.memSwappiness,
    cpus: r?.cpus,
    cpu_shares: r?.cpuShares,
    cpuset: r?.cpuset,
    cpu_quota: r?.cpuQuota,
    cpu_period: r?.cpuPeriod,
    cpu_rt_period: r?.cpuRtPeriod,
    cpu_rt_runtime: r?.cpuRtRuntime,
    cpu_count: r?.cpuCount,
    cpu_percent: r?.cpuPercent,
    pids_limit: r?.pidsLimit,
    oom_kill_disable: r?.oomKillDisable,
    oom_score_adj: r?.oomScoreAdj,
    blkio_config: r?.blkioWeight === undefined ? undefined : { weight: r.blkioWeight },
  };
}

function renderHook(h: NonNullable<ServiceSpec['postStart']>[number]): Plain {
  return { command: h.command, user: h.user, privileged: h.privileged, working_dir: h.workingDir, environment: h.environment };
}

function renderDeploy(s: ServiceSpec): Plain {
  const d = s.deploy;
  return {
    mode: d?.mode,
    replicas: s.replicas,
    labels: d?.labels,
    endpoint_mode: d?.endpointMode,
    resources: d?.resources && {
      limits: d.resources.limits && { cpus: d.resources.limits.cpus, memory: d.resources.limits.memoryBytes, pids: d.resources.limits.pids },
      reservations: d.resources.reservations && {
        cpus: d.resources.reservations.cpus,
        memory: d.resources.reservations.memoryBytes,
        devices: d.resources.reservations.devices?.map((x) => ({ capabilities: x.capabilities, driver: x.driver, count: x.count === -1 ? 'all' : x.count, device_ids: x.deviceIds, options: x.options })),
        generic_resources: d.resources.reservations.genericResources?.map((g) => ({ discrete_resource_spec: g })),
      },
    },
    restart_policy: d?.restartPolicy && { condition: d.restartPolicy.condition, delay: ms(d.restartPolicy.delayMs), max_attempts: d.restartPolicy.maxAttempts, window: ms(d.restartPolicy.windowMs) },
    placement: d?.placement && { constraints: d.placement.constraints, preferences: d.placement.preferences, max_replicas_per_node: d.placement.maxReplicasPerNode },
    update_config: { parallelism: s.update.parallelism, delay: ms(s.update.delayMs), failure_action: s.update.failureAction, monitor: ms(s.update.monitorMs), max_failure_ratio: s.update.maxFailureRatio, order: s.update.order },
    rollback_config: { parallelism: s.rollback.parallelism, delay: ms(s.rollback.delayMs), failure_action: s.rollback.failureAction, monitor: ms(s.rollback.monitorMs), max_failure_ratio: s.rollback.maxFailureRatio, order: s.rollback.order },
  };
}

function renderFileObject(d: FileObjectDefinition): Plain {
  // `value` is not enumerable and is never listed; `environment` names the variable only.
  return { name: d.name, file: d.file, environment: d.environment, content: d.content, external: d.external, labels: d.labels, driver: d.driver, driver_opts: d.driverOpts, template_driver: d.templateDriver };
}

/** The configuration as compose's `config` command shows it (a plain object: print it as YAML or JSON). */
export function renderConfig(config: SystemConfig): Plain {
  const nets = config.networkDefinitions ?? {};
  const vols = config.volumeDefinitions ?? {};
  return clean({
    name: config.project,
    services: Object.fromEntries(config.services.map((s) => [s.name, renderService(s)])),
    networks: nonEmptyMap(Object.fromEntries(Object.entries(nets).map(([k, n]) => [k, {
      name: n.name, driver: n.driver, driver_opts: n.driverOpts, internal: n.internal, attachable: n.attachable, enable_ipv4: n.enableIpv4, enable_ipv6: n.enableIpv6, external: n.external, labels: n.labels,
      ipam: n.ipam && { driver: n.ipam.driver, options: n.ipam.options, config: n.ipam.config?.map((c) => ({ subnet: c.subnet, ip_range: c.ipRange, gateway: c.gateway, aux_addresses: c.auxAddresses })) },
    }]))),
    volumes: nonEmptyMap(Object.fromEntries(Object.entries(vols).map(([k, v]) => [k, { name: v.name, driver: v.driver, driver_opts: v.driverOpts, external: v.external, labels: v.labels }]))),
    secrets: config.secrets && Object.fromEntries(Object.entries(config.secrets).map(([k, d]) => [k, renderFileObject(d)])),
    configs: config.configs && Object.fromEntries(Object.entries(config.configs).map(([k, d]) => [k, renderFileObject(d)])),
  }) as Plain;
}
