/**
 * The container keys that map one to one onto the engine's container settings (capabilities,
 * namespaces, DNS, devices, resources, logging, hooks …), read into the service spec.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { ContainerResources, DeviceMapping, LifecycleHook, LoggingConfig, PullPolicy, ServiceSpec, Ulimit } from '../model.js';
import { parseDuration } from '../../common/duration.js';
import type { Context, Mutable } from './context.js';
import { readDeviceRequests } from './deploy.js';
import { mac } from './networks.js';
import { svcDocs } from './problems.js';
import { boolKey as flagKey, listKey as stringsKey, mapKey as pairsKey, readKeys, readMapList, textKey, valueKey, type KeyReader } from './key-readers.js';
import { bool, bytes, decimalIn, int, mapOf, omitUndefined, oneOf, seqOf, str, stringList } from './scalars.js';
import { readCommandNode } from './command.js';
import { scalarText, show, type Entry, type Node } from './yaml.js';

type Spec = Mutable<ServiceSpec>;
type Reader = (v: Node, spec: Spec, ctx: Context, e: Entry) => void;

/** A shared key reader (./key-readers.ts) with the key's own docs as the hint. */
const withDocs = (read: KeyReader<Spec>): Reader => (v, spec, ctx, e) => read(v, spec, ctx, svcDocs(e.key), e);
const strKey = (field: keyof Spec, what: string): Reader => withDocs(textKey(field, what, true));
const boolKey = (field: keyof Spec): Reader => withDocs(flagKey(field));
const listKey = (field: keyof Spec, what: string): Reader => withDocs(stringsKey(field, what));
const mapKey = (field: keyof Spec, what: string): Reader => withDocs(pairsKey(field, what));
const resource = (field: keyof ContainerResources, read: (v: Node, ctx: Context, docs: string) => unknown): Reader => (v, spec, ctx, e) => {
  const value = read(v, ctx, svcDocs(e.key));
  if (value !== undefined) spec.resources = { ...spec.resources, [field]: value };
};
const intIn = (min: number, max: number, what: string) => (v: Node, ctx: Context, docs: string) => int(v, ctx, min, max, what, docs);

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Every container key this file reads, by compose name. */
export const CONTAINER_KEYS: Record<string, Reader> = {
  container_name: (v, spec, ctx, e) => {
    const s = str(v, ctx, 'a container name', svcDocs(e.key));
    if (s !== undefined && !NAME.test(s)) ctx.problems.add(v.loc, `expected a container name of letters, digits, _ . -, got ${show(v)}`, svcDocs(e.key));
    else spec.containerName = s;
  },
  pull_policy: (v, spec, ctx, e) => (spec.pullPolicy = readPullPolicy(v, ctx, svcDocs(e.key))),
  platform: strKey('platform', 'a platform like linux/amd64'),
  hostname: strKey('hostname', 'a host name'),
  domainname: strKey('domainname', 'a domain name'),
  mac_address: (v, spec, ctx, e) => (spec.macAddress = mac(v, ctx, svcDocs(e.key))),
  runtime: strKey('runtime', 'a runtime name like runc'),
  ipc: strKey('ipc', 'shareable, host, private or service:<name>'),
  pid: strKey('pid', 'host or service:<name>'),
  uts: strKey('uts', 'host'),
  userns_mode: strKey('usernsMode', 'host'),
  cgroup_parent: strKey('cgroupParent', 'a cgroup path'),
  cgroup: (v, spec, ctx, e) => (spec.cgroup = oneOf(v, ctx, ['host', 'private'] as const, svcDocs(e.key))),
  privileged: boolKey('privileged'),
  read_only: boolKey('readOnly'),
  tty: boolKey('tty'),
  stdin_open: boolKey('stdinOpen'),
  init: boolKey('init'),
  cap_add: listKey('capAdd', 'capabilities'),
  cap_drop: listKey('capDrop', 'capabilities'),
  security_opt: listKey('securityOpt', 'security options'),
  group_add: listKey('groupAdd', 'groups'),
  dns: listKey('dns', 'DNS server addresses'),
  dns_search: listKey('dnsSearch', 'DNS search domains'),
  dns_opt: listKey('dnsOpt', 'resolver options'),
  device_cgroup_rules: listKey('deviceCgroupRules', 'device cgroup rules'),
  external_links: listKey('externalLinks', 'container[:alias] links'),
  links: listKey('links', 'service[:alias] links'),
  volumes_from: (v, spec, ctx, e) => (spec.volumesFrom = readVolumesFrom(v, ctx, svcDocs(e.key))),
  expose: listKey('expose', 'ports'),
  sysctls: mapKey('sysctls', 'sysctls'),
  storage_opt: mapKey('storageOpt', 'storage options'),
  annotations: mapKey('annotations', 'annotations'),
  extra_hosts: (v, spec, ctx, e) => (spec.extraHosts = readExtraHosts(v, ctx, svcDocs(e.key))),
  ulimits: (v, spec, ctx, e) => (spec.ulimits = readUlimits(v, ctx, svcDocs(e.key))),
  logging: (v, spec, ctx, e) => (spec.logging = readLogging(v, ctx, svcDocs(e.key))),
  devices: (v, spec, ctx, e) => (spec.devices = readDevices(v, ctx, svcDocs(e.key))),
  gpus: (v, spec, ctx, e) => {
    spec.gpus = v.kind === 'scalar' && v.value === 'all' ? [{ capabilities: ['gpu'], count: -1 }] : readDeviceRequests(v, ctx, svcDocs(e.key));
  },
  shm_size: (v, spec, ctx, e) => (spec.shmSizeBytes = bytes(v, ctx, svcDocs(e.key))),
  mem_limit: resource('memoryBytes', (v, ctx, d) => bytes(v, ctx, d)),
  memswap_limit: resource('memorySwapBytes', (v, ctx, d) => bytes(v, ctx, d, true)),
  mem_reservation: resource('memoryReservationBytes', (v, ctx, d) => bytes(v, ctx, d)),
  mem_swappiness: resource('memSwappiness', intIn(0, 100, 'a whole number from 0 to 100')),
  cpus: resource('cpus', (v, ctx, d) => decimalIn(v, ctx, 0, 1e6, 'a number of CPUs like 0.5', d)),
  cpu_shares: resource('cpuShares', intIn(0, 2 ** 31, 'a whole number (1024 is the default weight)')),
  cpuset: resource('cpuset', (v, ctx, d) => str(v, ctx, 'CPUs like 0-3 or 0,1', d, true)),
  cpu_quota: resource('cpuQuota', intIn(-1, 2 ** 31, 'microseconds per period')),
  cpu_period: resource('cpuPeriod', intIn(0, 2 ** 31, 'microseconds')),
  cpu_rt_period: resource('cpuRtPeriod', (v, ctx, d) => micros(v, ctx, d)),
  cpu_rt_runtime: resource('cpuRtRuntime', (v, ctx, d) => micros(v, ctx, d)),
  cpu_count: resource('cpuCount', intIn(0, 1 << 16, 'a whole number')),
  cpu_percent: resource('cpuPercent', intIn(0, 100, 'a whole number from 0 to 100')),
  pids_limit: resource('pidsLimit', intIn(-1, 2 ** 31, 'a whole number (-1 for unlimited)')),
  oom_kill_disable: resource('oomKillDisable', (v, ctx, d) => bool(v, ctx, d)),
  oom_score_adj: resource('oomScoreAdj', intIn(-1000, 1000, 'a whole number from -1000 to 1000')),
  blkio_config: (v, spec, ctx, e) => {
    for (const b of mapOf(v, ctx, 'a mapping', svcDocs(e.key))?.entries.values() ?? []) {
      if (b.key === 'weight') {
        const w = int(b.value, ctx, 10, 1000, 'a weight from 10 to 1000', svcDocs(e.key));
        if (w !== undefined) spec.resources = { ...spec.resources, blkioWeight: w };
      } else ctx.problems.add(b.keyLoc, `blkio_config.${b.key} is not supported by kiboko deploy yet`, 'only weight is; remove it');
    }
  },
  post_start: (v, spec, ctx, e) => (spec.postStart = readHooks(v, ctx, svcDocs(e.key))),
  pre_stop: (v, spec, ctx, e) => (spec.preStop = readHooks(v, ctx, svcDocs(e.key))),
};

function micros(v: Node, ctx: Context, docs: string): number | undefined {
  if (v.kind === 'scalar' && typeof v.value === 'number') return int(v, ctx, 0, 2 ** 40, 'microseconds', docs);
  try {
    return Math.round(parseDuration(scalarText(v as never), 'duration') * 1000);
  } catch {
    ctx.problems.add(v.loc, `expected microseconds or a duration like 400ms, got ${show(v)}`, docs);
    return undefined;
  }
}

function readPullPolicy(v: Node, ctx: Context, docs: string): PullPolicy | undefined {
  const s = str(v, ctx, 'always, never, missing, build, daily, weekly or every_<duration>', docs);
  if (s === undefined) return undefined;
  if (s === 'always' || s === 'never' || s === 'missing' || s === 'build') return s;
  if (s === 'if_not_present') return 'missing';
  if (s === 'daily') return { refresh: { everyMs: 86_400_000 } };
  if (s === 'weekly') return { refresh: { everyMs: 7 * 86_400_000 } };
  const m = /^every_(.+)$/.exec(s);
  if (m) {
    try {
      return { refresh: { everyMs: parseDuration(m[1]!, 'pull_policy') } };
    } catch {
      /* reported below */
    }
  }
  ctx.problems.add(v.loc, `expected always, never, missing, build, daily, weekly or every_<duration>, got ${show(v)}`, docs);
  return undefined;
}

/** `host:ip`, `host=ip`, or a mapping host: ip (or a list of IPs), as the engine's `host:ip`. */
export function readExtraHosts(v: Node, ctx: Context, docs: string): string[] | undefined {
  const out: string[] = [];
  const add = (host: string, ip: string, node: Node) => {
    const bare = ip.replace(/^\[(.*)\]$/, '$1');
    if (!host || !(isIPv4(bare) || isIPv6(bare) || bare === 'host-gateway')) {
      ctx.problems.add(node.loc, `expected host:IP (or host=IP), got ${JSON.stringify(`${host}:${ip}`)}`, docs);
      return;
    }
    out.push(`${host}:${bare}`);
  };
  if (v.kind === 'map') {
    for (const e of v.entries.values()) {
      const ips = e.value.kind === 'seq' ? e.value.items : [e.value];
      for (const ip of ips) add(e.key, ip.kind === 'scalar' ? scalarText(ip) : '', ip);
    }
    return out;
  }
  for (const [i, s] of (stringList(v, ctx, 'host:IP entries', docs, false) ?? []).entries()) {
    const at = v.kind === 'seq' ? v.items[i]! : v;
    const eq = s.indexOf('=');
    const colon = s.indexOf(':');
    const cut = eq >= 0 ? eq : colon;
    if (cut < 0) add(s, '', at);
    else add(s.slice(0, cut), s.slice(cut + 1), at);
  }
  return out;
}

export function readUlimits(v: Node, ctx: Context, docs: string): Record<string, Ulimit> | undefined {
  const map = mapOf(v, ctx, 'a mapping of limits (nofile: 1024 or nofile: { soft, hard })', docs);
  if (!map) return undefined;
  const out: Record<string, Ulimit> = {};
  for (const e of map.entries.values()) {
    if (e.value.kind === 'map') {
      const soft = e.value.entries.get('soft');
      const hard = e.value.entries.get('hard');
      for (const k of e.value.entries.values()) if (k.key !== 'soft' && k.key !== 'hard') ctx.problems.add(k.keyLoc, `unknown ulimit key ${JSON.stringify(k.key)}`, `expected soft and hard; ${docs}`);
      const s = soft ? int(soft.value, ctx, -1, Number.MAX_SAFE_INTEGER, 'a whole number', docs) : undefined;
      const h = hard ? int(hard.value, ctx, -1, Number.MAX_SAFE_INTEGER, 'a whole number', docs) : undefined;
      if (!soft || !hard) ctx.problems.add(e.keyLoc, `ulimit ${e.key} needs soft and hard`, docs);
      else if (s !== undefined && h !== undefined) {
        if (s > h && h !== -1) ctx.problems.add(e.keyLoc, `ulimit ${e.key}: soft ${s} is above hard ${h}`, 'the soft limit cannot exceed the hard one');
        else out[e.key] = { soft: s, hard: h };
      }
    } else {
      const n = int(e.value, ctx, -1, Number.MAX_SAFE_INTEGER, 'a whole number or { soft, hard }', docs);
      if (n !== undefined) out[e.key] = { soft: n, hard: n };
    }
  }
  return out;
}

const LOGGING_KEYS: Record<string, KeyReader<Mutable<LoggingConfig>>> = {
  driver: textKey('driver', 'a logging driver like json-file'),
  options: pairsKey('options', 'options'),
};

function readLogging(v: Node, ctx: Context, docs: string): LoggingConfig | undefined {
  const map = mapOf(v, ctx, 'a mapping with driver and options', docs);
  if (!map) return undefined;
  return omitUndefined(readKeys(map, {}, LOGGING_KEYS, ctx, docs, { name: 'logging key' }));
}

/** `/dev/host[:/dev/container[:rwm]]`, a CDI device name, or { source, target, permissions }. */
function readDevices(v: Node, ctx: Context, docs: string): DeviceMapping[] | undefined {
  const list = seqOf(v, ctx, 'a list of devices', docs);
  if (!list) return undefined;
  const out: DeviceMapping[] = [];
  for (const item of list.items) {
    if (item.kind === 'map') {
      const d: Mutable<DeviceMapping> = { source: '' };
      for (const e of item.entries.values()) {
        if (e.key === 'source') d.source = str(e.value, ctx, 'a device path', docs) ?? '';
        else if (e.key === 'target') d.target = str(e.value, ctx, 'a device path', docs);
        else if (e.key === 'permissions') d.permissions = str(e.value, ctx, 'r, w and/or m', docs);
        else ctx.problems.add(e.keyLoc, `unknown device key ${JSON.stringify(e.key)}`, `expected source, target or permissions; ${docs}`);
      }
      if (d.source) out.push(omitUndefined(d));
      else ctx.problems.add(item.loc, 'a device needs source:', docs);
      continue;
    }
    const s = str(item, ctx, 'a device like /dev/ttyUSB0:/dev/ttyUSB0', docs);
    if (s === undefined) continue;
    if (!s.startsWith('/')) {
      out.push({ source: s }); // a CDI device name (vendor.com/class=name)
      continue;
    }
    const [source, target, permissions, extra] = s.split(':');
    if (extra !== undefined || (permissions !== undefined && !/^[rwm]+$/.test(permissions))) {
      ctx.problems.add(item.loc, `expected /dev/host[:/dev/container[:rwm]], got ${show(item)}`, docs);
      continue;
    }
    out.push(omitUndefined({ source: source!, target, permissions }));
  }
  return out;
}

/** `volumes_from: [db, db:ro, container:legacy]`, normalised to `service:db:ro` / `container:legacy`. */
function readVolumesFrom(v: Node, ctx: Context, docs: string): string[] | undefined {
  const list = stringList(v, ctx, 'services or container:<name>', docs);
  if (!list) return undefined;
  return list.map((s) => (s.startsWith('container:') || s.startsWith('service:') ? s : `service:${s}`));
}

const HOOK_KEYS: Record<string, KeyReader<Mutable<LifecycleHook>>> = {
  command: valueKey('command', (v, ctx, docs) => readCommandNode(v, ctx, docs) ?? []),
  user: textKey('user', 'a user', true),
  privileged: flagKey('privileged'),
  working_dir: textKey('workingDir', 'a path'),
  environment: pairsKey('environment', 'environment'),
};

function readHooks(v: Node, ctx: Context, docs: string): LifecycleHook[] | undefined {
  const expected = { list: 'a list of hooks ({ command, user, privileged, working_dir, environment })', item: 'a mapping with command' };
  return readMapList(v, ctx, docs, expected, (m) => {
    const hook = readKeys<Mutable<LifecycleHook>>(m, { command: [] }, HOOK_KEYS, ctx, docs, { name: 'hook key' });
    if (hook.command.length > 0) return omitUndefined(hook);
    ctx.problems.add(m.loc, 'a hook needs a command', docs);
    return undefined;
  });
}
