/** What a container is created from (`Engine.create`), and the networks and mounts it names. */

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
