import type { ContainerSpec, EndpointSpec, MountSpec, NetworkOptions } from '../types.js';

/**
 * kiboko's ContainerSpec ↔ the Engine API's container create body (Config + HostConfig +
 * NetworkingConfig), both ways: `createBody` for create, `specFromInspect` to read back what the
 * engine holds (the contract tests check the round trip; deploys use it to adopt containers).
 */

const ns = (ms: number | undefined) => (ms === undefined ? undefined : ms * 1e6);
const list = <T>(a: readonly T[] | undefined): T[] | undefined => (a ? [...a] : undefined);
const rec = (r: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined => (r ? { ...r } : undefined);

export function endpointOf(n: EndpointSpec): Omit<EndpointSpec, 'name' | 'aliases'> {
  return { ipv4Address: n.ipv4Address, ipv6Address: n.ipv6Address, linkLocalIps: n.linkLocalIps, macAddress: n.macAddress };
}

export function endpointConfig(n: EndpointSpec): Record<string, unknown> {
  const ipam = n.ipv4Address || n.ipv6Address || n.linkLocalIps?.length ? { IPv4Address: n.ipv4Address, IPv6Address: n.ipv6Address, LinkLocalIPs: list(n.linkLocalIps) } : undefined;
  return {
    Aliases: n.aliases?.length ? [...n.aliases] : undefined,
    ...(ipam ? { IPAMConfig: ipam } : {}),
    ...(n.macAddress ? { MacAddress: n.macAddress } : {}),
  };
}

function mountBody(m: MountSpec): Record<string, unknown> {
  return {
    Type: m.type,
    Source: m.source,
    Target: m.target,
    ReadOnly: m.readOnly,
    Consistency: m.consistency,
    ...(m.bind ? { BindOptions: { Propagation: m.bind.propagation, CreateMountpoint: m.bind.createHostPath } } : {}),
    ...(m.volume
      ? {
          VolumeOptions: {
            NoCopy: m.volume.noCopy,
            Labels: rec(m.volume.labels),
            ...(m.volume.subpath ? { Subpath: m.volume.subpath } : {}),
            ...(m.volume.driver ? { DriverConfig: { Name: m.volume.driver, Options: rec(m.volume.driverOptions) } } : {}),
          },
        }
      : {}),
    ...(m.tmpfs ? { TmpfsOptions: { SizeBytes: m.tmpfs.sizeBytes, Mode: m.tmpfs.mode } } : {}),
  };
}

export function createBody(spec: ContainerSpec): Record<string, unknown> {
  const portKey = (p: { target: number; protocol: string }) => `${p.target}/${p.protocol}`;
  const exposedKeys = [...(spec.ports ?? []).map(portKey), ...(spec.expose ?? []).map((e) => (e.includes('/') ? e : `${e}/tcp`))];
  const exposed = spec.ports || spec.expose ? Object.fromEntries(exposedKeys.map((k) => [k, {}])) : undefined;
  const bindings: Record<string, { HostIp?: string; HostPort?: string }[]> = {};
  for (const p of spec.ports ?? []) (bindings[portKey(p)] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: p.published === undefined ? '' : String(p.published) });
  const firstNet = spec.networks?.[0];
  const rp = spec.restartPolicy;
  return {
    name: spec.name,
    Image: spec.image,
    User: spec.user,
    WorkingDir: spec.workingDir,
    Hostname: spec.hostname,
    Domainname: spec.domainname,
    MacAddress: spec.macAddress,
    Tty: spec.tty,
    OpenStdin: spec.openStdin,
    ExposedPorts: exposed,
    Healthcheck: spec.healthcheck
      ? {
          Test: [...spec.healthcheck.test],
          Interval: ns(spec.healthcheck.intervalMs),
          Timeout: ns(spec.healthcheck.timeoutMs),
          Retries: spec.healthcheck.retries,
          StartPeriod: ns(spec.healthcheck.startPeriodMs),
        }
      : undefined,
    NetworkingConfig: firstNet && !spec.networkMode ? { EndpointsConfig: { [firstNet.name]: endpointConfig(firstNet) } } : undefined,
    Cmd: list(spec.cmd),
    Entrypoint: list(spec.entrypoint),
    Env: list(spec.env),
    Labels: rec(spec.labels),
    StopSignal: spec.stopSignal,
    StopTimeout: spec.stopTimeout,
    Volumes: spec.volumes ? Object.fromEntries(spec.volumes.map((v) => [v, {}])) : undefined,
    HostConfig: {
      NetworkMode: spec.networkMode ?? firstNet?.name,
      CapAdd: list(spec.capAdd),
      CapDrop: list(spec.capDrop),
      Privileged: spec.privileged,
      Runtime: spec.runtime,
      AutoRemove: spec.autoRemove,
      Binds: list(spec.binds),
      Mounts: spec.mounts?.map(mountBody),
      Init: spec.init,
      CgroupParent: spec.cgroupParent,
      CgroupnsMode: spec.cgroupnsMode,
      PortBindings: spec.ports ? bindings : undefined,
      RestartPolicy: rp ? { Name: rp.name === 'no' ? '' : rp.name, MaximumRetryCount: rp.maximumRetryCount ?? 0 } : undefined,
      Sysctls: rec(spec.sysctls),
      ...(spec.annotations ? { Annotations: rec(spec.annotations) } : {}),
      Ulimits: spec.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
      LogConfig: spec.logConfig ? { Type: spec.logConfig.driver, Config: rec(spec.logConfig.options) ?? {} } : undefined,
      Devices: spec.devices?.map((d) => ({ PathOnHost: d.pathOnHost, PathInContainer: d.pathInContainer, CgroupPermissions: d.cgroupPermissions })),
      DeviceCgroupRules: list(spec.deviceCgroupRules),
      DeviceRequests: spec.deviceRequests?.map((d) => ({ Driver: d.driver ?? '', Count: d.count ?? 0, DeviceIDs: list(d.deviceIds), Capabilities: [[...d.capabilities]], Options: rec(d.options) })),
      Tmpfs: rec(spec.tmpfs),
      ReadonlyRootfs: spec.readonlyRootfs,
      IpcMode: spec.ipcMode,
      PidMode: spec.pidMode,
      UTSMode: spec.utsMode,
      UsernsMode: spec.usernsMode,
      Dns: list(spec.dns),
      DnsSearch: list(spec.dnsSearch),
      DnsOptions: list(spec.dnsOptions),
      ExtraHosts: list(spec.extraHosts),
      Links: list(spec.links),
      VolumesFrom: list(spec.volumesFrom),
      SecurityOpt: list(spec.securityOpt),
      GroupAdd: list(spec.groupAdd),
      StorageOpt: rec(spec.storageOpt),
      ShmSize: spec.shmSize,
      Memory: spec.memory,
      MemoryReservation: spec.memoryReservation,
      MemorySwap: spec.memorySwap,
      MemorySwappiness: spec.memorySwappiness,
      NanoCpus: spec.nanoCpus,
      CpuShares: spec.cpuShares,
      CpuQuota: spec.cpuQuota,
      CpuPeriod: spec.cpuPeriod,
      CpuRealtimeRuntime: spec.cpuRtRuntime,
      CpuRealtimePeriod: spec.cpuRtPeriod,
      CpusetCpus: spec.cpusetCpus,
      CpusetMems: spec.cpusetMems,
      PidsLimit: spec.pidsLimit,
      OomKillDisable: spec.oomKillDisable,
      OomScoreAdj: spec.oomScoreAdj,
      BlkioWeight: spec.blkioWeight,
    },
  };
}

export function networkBody(o: NetworkOptions): Record<string, unknown> {
  return {
    Driver: o.driver ?? 'bridge',
    ...(o.driverOpts ? { Options: { ...o.driverOpts } } : {}),
    ...(o.internal !== undefined ? { Internal: o.internal } : {}),
    ...(o.attachable !== undefined ? { Attachable: o.attachable } : {}),
    ...(o.enableIpv6 !== undefined ? { EnableIPv6: o.enableIpv6 } : {}),
    ...(o.ipam
      ? {
          IPAM: {
            Driver: o.ipam.driver ?? 'default',
            Options: rec(o.ipam.options),
            Config: (o.ipam.config ?? []).map((c) => ({ Subnet: c.subnet, IPRange: c.ipRange, Gateway: c.gateway, AuxiliaryAddresses: rec(c.auxAddresses) })),
          },
        }
      : {}),
  };
}

export interface RawNetwork {
  Id: string;
  Name: string;
  Driver: string;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Options?: Record<string, string> | null; Config?: { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }[] | null };
  Containers?: Record<string, { Name?: string }> | null;
}

type Maybe<T> = T | null | undefined;

export interface RawContainer {
  Name: string;
  Config: {
    Image: string;
    User?: string;
    WorkingDir?: string;
    Hostname?: string;
    Domainname?: string;
    MacAddress?: string;
    Tty?: boolean;
    OpenStdin?: boolean;
    Cmd?: Maybe<string[]>;
    Entrypoint?: Maybe<string[]>;
    Env?: Maybe<string[]>;
    Labels?: Maybe<Record<string, string>>;
    StopSignal?: string;
    StopTimeout?: number;
    ExposedPorts?: Maybe<Record<string, unknown>>;
    Volumes?: Maybe<Record<string, unknown>>;
    Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number };
  };
  HostConfig: Record<string, unknown>;
  NetworkSettings?: { Networks?: Maybe<Record<string, { Aliases?: Maybe<string[]>; IPAMConfig?: Maybe<{ IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: Maybe<string[]> }>; MacAddress?: string }>> };
}

const nonEmpty = <T>(a: Maybe<readonly T[]>): T[] | undefined => (a && a.length ? [...a] : undefined);
const nonEmptyRec = (r: Maybe<Record<string, string>>): Record<string, string> | undefined => (r && Object.keys(r).length ? { ...r } : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && v !== 0 ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const bool = (v: unknown): boolean | undefined => (v === true ? true : undefined);

/** The inverse of createBody: engine defaults (0, '', false, empty lists) read as unset. */
export function specFromInspect(c: RawContainer): ContainerSpec & { name: string } {
  const h = c.HostConfig as Record<string, unknown> & {
    PortBindings?: Maybe<Record<string, Maybe<{ HostIp?: string; HostPort?: string }[]>>>;
    RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
    Ulimits?: Maybe<{ Name: string; Soft: number; Hard: number }[]>;
    LogConfig?: { Type?: string; Config?: Maybe<Record<string, string>> };
    Devices?: Maybe<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[]>;
    DeviceRequests?: Maybe<{ Driver?: string; Count?: number; DeviceIDs?: Maybe<string[]>; Capabilities?: Maybe<string[][]>; Options?: Maybe<Record<string, string>> }[]>;
  };
  const ports: NonNullable<ContainerSpec['ports']>[number][] = [];
  for (const [key, binds] of Object.entries(h.PortBindings ?? {})) {
    const [target, protocol] = key.split('/');
    for (const b of binds ?? []) ports.push({ target: Number(target), protocol: protocol === 'udp' ? 'udp' : 'tcp', published: b.HostPort ? Number(b.HostPort) : undefined, hostIp: b.HostIp || undefined });
  }
  const networks: EndpointSpec[] = Object.entries(c.NetworkSettings?.Networks ?? {}).map(([name, n]) => ({
    name,
    aliases: nonEmpty(n.Aliases),
    ipv4Address: str(n.IPAMConfig?.IPv4Address),
    ipv6Address: str(n.IPAMConfig?.IPv6Address),
    linkLocalIps: nonEmpty(n.IPAMConfig?.LinkLocalIPs),
  }));
  const hc = c.Config.Healthcheck;
  const rp = h.RestartPolicy;
  const mode = str(h.NetworkMode);
  return {
    name: c.Name.replace(/^\//, ''),
    image: c.Config.Image,
    user: str(c.Config.User),
    workingDir: str(c.Config.WorkingDir),
    hostname: str(c.Config.Hostname),
    domainname: str(c.Config.Domainname),
    macAddress: str(c.Config.MacAddress),
    tty: bool(c.Config.Tty),
    openStdin: bool(c.Config.OpenStdin),
    cmd: nonEmpty(c.Config.Cmd),
    entrypoint: nonEmpty(c.Config.Entrypoint),
    env: nonEmpty(c.Config.Env),
    labels: c.Config.Labels ?? {},
    stopSignal: str(c.Config.StopSignal),
    stopTimeout: num(c.Config.StopTimeout),
    volumes: c.Config.Volumes ? Object.keys(c.Config.Volumes) : undefined,
    healthcheck: hc?.Test?.length
      ? { test: hc.Test, intervalMs: hc.Interval ? hc.Interval / 1e6 : undefined, timeoutMs: hc.Timeout ? hc.Timeout / 1e6 : undefined, retries: hc.Retries || undefined, startPeriodMs: hc.StartPeriod ? hc.StartPeriod / 1e6 : undefined }
      : undefined,
    ports: ports.length ? ports : undefined,
    networks,
    networkMode: mode,
    capAdd: nonEmpty(h.CapAdd as Maybe<string[]>),
    capDrop: nonEmpty(h.CapDrop as Maybe<string[]>),
    privileged: bool(h.Privileged),
    runtime: str(h.Runtime),
    autoRemove: bool(h.AutoRemove),
    binds: nonEmpty(h.Binds as Maybe<string[]>),
    init: bool(h.Init),
    cgroupParent: str(h.CgroupParent),
    restartPolicy: rp?.Name ? { name: rp.Name as 'always', maximumRetryCount: rp.MaximumRetryCount || undefined } : { name: 'no' },
    sysctls: nonEmptyRec(h.Sysctls as Maybe<Record<string, string>>),
    annotations: nonEmptyRec(h.Annotations as Maybe<Record<string, string>>),
    ulimits: nonEmpty(h.Ulimits)?.map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
    logConfig: h.LogConfig?.Type ? { driver: h.LogConfig.Type, options: nonEmptyRec(h.LogConfig.Config) } : undefined,
    devices: nonEmpty(h.Devices)?.map((d) => ({ pathOnHost: d.PathOnHost, pathInContainer: d.PathInContainer, cgroupPermissions: d.CgroupPermissions })),
    deviceCgroupRules: nonEmpty(h.DeviceCgroupRules as Maybe<string[]>),
    deviceRequests: nonEmpty(h.DeviceRequests)?.map((d) => ({ driver: str(d.Driver), count: num(d.Count), deviceIds: nonEmpty(d.DeviceIDs), capabilities: d.Capabilities?.[0] ?? [], options: nonEmptyRec(d.Options) })),
    tmpfs: nonEmptyRec(h.Tmpfs as Maybe<Record<string, string>>),
    readonlyRootfs: bool(h.ReadonlyRootfs),
    ipcMode: str(h.IpcMode),
    pidMode: str(h.PidMode),
    utsMode: str(h.UTSMode),
    usernsMode: str(h.UsernsMode),
    dns: nonEmpty(h.Dns as Maybe<string[]>),
    dnsSearch: nonEmpty(h.DnsSearch as Maybe<string[]>),
    dnsOptions: nonEmpty(h.DnsOptions as Maybe<string[]>),
    extraHosts: nonEmpty(h.ExtraHosts as Maybe<string[]>),
    links: nonEmpty(h.Links as Maybe<string[]>),
    volumesFrom: nonEmpty(h.VolumesFrom as Maybe<string[]>),
    securityOpt: nonEmpty(h.SecurityOpt as Maybe<string[]>),
    groupAdd: nonEmpty(h.GroupAdd as Maybe<string[]>),
    storageOpt: nonEmptyRec(h.StorageOpt as Maybe<Record<string, string>>),
    shmSize: num(h.ShmSize),
    memory: num(h.Memory),
    memoryReservation: num(h.MemoryReservation),
    memorySwap: num(h.MemorySwap),
    memorySwappiness: typeof h.MemorySwappiness === 'number' && h.MemorySwappiness >= 0 ? h.MemorySwappiness : undefined,
    nanoCpus: num(h.NanoCpus),
    cpuShares: num(h.CpuShares),
    cpuQuota: num(h.CpuQuota),
    cpuPeriod: num(h.CpuPeriod),
    cpuRtRuntime: num(h.CpuRealtimeRuntime),
    cpuRtPeriod: num(h.CpuRealtimePeriod),
    cpusetCpus: str(h.CpusetCpus),
    cpusetMems: str(h.CpusetMems),
    pidsLimit: num(h.PidsLimit),
    oomKillDisable: bool(h.OomKillDisable),
    oomScoreAdj: num(h.OomScoreAdj),
    blkioWeight: num(h.BlkioWeight),
  };
}
