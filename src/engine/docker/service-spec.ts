import type { SwarmServiceDefinition, SwarmUpdateConfig } from '../types.js';

const NS = 1e6;

function updateConfigSpec(u: SwarmUpdateConfig) {
  return {
    Parallelism: u.parallelism,
    Delay: Math.round(u.delayMs * NS),
    FailureAction: u.failureAction,
    Monitor: Math.round(u.monitorMs * NS),
    MaxFailureRatio: u.maxFailureRatio,
    Order: u.order,
  };
}

/** kiboko's service definition → the Engine API's ServiceSpec. */
export function serviceSpec(d: SwarmServiceDefinition): Record<string, unknown> {
  return {
    Name: d.name,
    Labels: { ...d.labels },
    TaskTemplate: {
      ContainerSpec: {
        Image: d.image,
        Command: d.entrypoint ? [...d.entrypoint] : undefined,
        Args: d.command ? [...d.command] : undefined,
        Env: [...d.env],
        Labels: { ...d.containerLabels },
        User: d.user,
        Dir: d.workingDir,
        StopSignal: d.stopSignal,
        StopGracePeriod: d.stopGracePeriodMs === undefined ? undefined : Math.round(d.stopGracePeriodMs * NS),
        Healthcheck: d.healthcheck
          ? {
              Test: [...d.healthcheck.test],
              Interval: d.healthcheck.intervalMs === undefined ? undefined : d.healthcheck.intervalMs * NS,
              Timeout: d.healthcheck.timeoutMs === undefined ? undefined : d.healthcheck.timeoutMs * NS,
              Retries: d.healthcheck.retries,
              StartPeriod: d.healthcheck.startPeriodMs === undefined ? undefined : d.healthcheck.startPeriodMs * NS,
            }
          : undefined,
        Mounts: [
          ...d.mounts.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
          ...(d.tmpfs ?? []).map((t) => ({ Type: 'tmpfs', Target: t.target, TmpfsOptions: { SizeBytes: t.sizeBytes, Mode: t.mode } })),
        ],
        Hostname: d.hostname,
        CapabilityAdd: d.capAdd ? [...d.capAdd] : undefined,
        CapabilityDrop: d.capDrop ? [...d.capDrop] : undefined,
        Sysctls: d.sysctls ? { ...d.sysctls } : undefined,
        Ulimits: d.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
        TTY: d.tty,
        OpenStdin: d.openStdin,
        ReadOnly: d.readOnly,
        Init: d.init,
        ...(d.dns || d.dnsSearch || d.dnsOptions ? { DNSConfig: { Nameservers: d.dns ? [...d.dns] : undefined, Search: d.dnsSearch ? [...d.dnsSearch] : undefined, Options: d.dnsOptions ? [...d.dnsOptions] : undefined } } : {}),
        Hosts: d.hosts ? [...d.hosts] : undefined,
        Secrets: d.secrets?.map((r) => ({ SecretID: r.id, SecretName: r.name, File: { Name: r.target, UID: r.uid, GID: r.gid, Mode: r.mode } })),
        Configs: d.configs?.map((r) => ({ ConfigID: r.id, ConfigName: r.name, File: { Name: r.target, UID: r.uid, GID: r.gid, Mode: r.mode } })),
      },
      RestartPolicy: {
        Condition: d.restart,
        ...(d.restartDelayMs !== undefined ? { Delay: Math.round(d.restartDelayMs * NS) } : {}),
        ...(d.restartMaxAttempts !== undefined ? { MaxAttempts: d.restartMaxAttempts } : {}),
        ...(d.restartWindowMs !== undefined ? { Window: Math.round(d.restartWindowMs * NS) } : {}),
      },
      ...(d.forceUpdate !== undefined ? { ForceUpdate: d.forceUpdate } : {}),
      ...(d.resources
        ? {
            Resources: {
              Limits: d.resources.limits ? { NanoCPUs: d.resources.limits.nanoCpus, MemoryBytes: d.resources.limits.memoryBytes, Pids: d.resources.limits.pids } : undefined,
              Reservations: d.resources.reservations
                ? {
                    NanoCPUs: d.resources.reservations.nanoCpus,
                    MemoryBytes: d.resources.reservations.memoryBytes,
                    GenericResources: d.resources.reservations.genericResources?.map((g) =>
                      typeof g.value === 'number' ? { DiscreteResourceSpec: { Kind: g.kind, Value: g.value } } : { NamedResourceSpec: { Kind: g.kind, Value: g.value } },
                    ),
                  }
                : undefined,
            },
          }
        : {}),
      ...(d.constraints?.length || d.spread?.length || d.maxReplicasPerNode
        ? {
            Placement: {
              ...(d.constraints?.length ? { Constraints: [...d.constraints] } : {}),
              ...(d.spread?.length ? { Preferences: d.spread.map((s) => ({ Spread: { SpreadDescriptor: s } })) } : {}),
              ...(d.maxReplicasPerNode ? { MaxReplicas: d.maxReplicasPerNode } : {}),
            },
          }
        : {}),
      Networks: d.networks.map((n) => ({ Target: n.target, Aliases: [...n.aliases] })),
    },
    Mode: d.mode === 'global' ? { Global: {} } : { Replicated: { Replicas: d.replicas } },
    UpdateConfig: updateConfigSpec(d.update),
    RollbackConfig: updateConfigSpec(d.rollback),
    EndpointSpec: { ...(d.endpointMode ? { Mode: d.endpointMode } : {}), Ports: d.ports.map((p) => ({ Protocol: p.protocol, TargetPort: p.target, PublishedPort: p.published, PublishMode: 'ingress' })) },
  };
}
