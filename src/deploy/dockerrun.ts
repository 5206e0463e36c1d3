import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { KibokoError, invalidArgument } from '../common/errors.js';
import { parseDuration } from '../common/duration.js';
import { parseSignal } from '../common/signals.js';
import {
  DEFAULT_ROLLBACK,
  DEFAULT_UPDATE,
  type Healthcheck,
  type PortMapping,
  type ServiceSpec,
  type VolumeMount,
} from './model.js';

/**
 * Translates the arguments of a `docker run` (those after `run`) into the ServiceSpec the
 * equivalent compose service would give. The docker CLI's own parsing rules are followed
 * (pflag: `--flag=v`, `--flag v`, `-p80:80`, `-dit`, flags stop at the image); any flag that has
 * no place in kiboko's service model is refused by name rather than dropped.
 */

export interface DockerRunContext {
  /** The service this container becomes. */
  service: string;
  /** The unit file, for messages and origin. */
  file: string;
  /** Line of the ExecStart in the file. */
  line?: number | undefined;
  /** Variables for `-e KEY` and `KEY` lines in `--env-file` (docker reads its own environment). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Relative `--env-file` / `--label-file` paths resolve against this folder. */
  baseDir?: string | undefined;
  readFile?: ((path: string) => string) | undefined;
}

export interface DockerRun {
  service: ServiceSpec;
  /** `--name`, if given: the container the unit's housekeeping lines (docker rm NAME) refer to. */
  containerName: string | undefined;
  /** Whether --restart was given (otherwise `service.restart` is docker's default, 'no'). */
  restartSet: boolean;
  /** Accepted-and-ignored flags that were present, e.g. ['--rm', '-d']. */
  ignored: string[];
}

/** Flags accepted because kiboko does what they ask for (or they do not matter for a managed service). */
export const IGNORED_FLAGS: Readonly<Record<string, string>> = {
  '-d/--detach': 'kiboko always runs services detached',
  '--rm': 'kiboko removes the containers it replaces',
  '-i/--interactive': 'no one attaches to a deployed service',
  '-t/--tty': 'no one attaches to a deployed service',
  '--sig-proxy': 'only matters for an attached docker client',
};

type Kind = 'bool' | 'value';
interface FlagDef {
  long: string;
  short?: string;
  kind: Kind;
  ignore?: boolean;
}

const FLAGS: readonly FlagDef[] = [
  { long: 'name', kind: 'value' },
  { long: 'publish', short: 'p', kind: 'value' },
  { long: 'env', short: 'e', kind: 'value' },
  { long: 'env-file', kind: 'value' },
  { long: 'volume', short: 'v', kind: 'value' },
  { long: 'mount', kind: 'value' },
  { long: 'network', kind: 'value' },
  { long: 'net', kind: 'value' },
  { long: 'label', short: 'l', kind: 'value' },
  { long: 'label-file', kind: 'value' },
  { long: 'restart', kind: 'value' },
  { long: 'health-cmd', kind: 'value' },
  { long: 'health-interval', kind: 'value' },
  { long: 'health-timeout', kind: 'value' },
  { long: 'health-retries', kind: 'value' },
  { long: 'health-start-period', kind: 'value' },
  { long: 'no-healthcheck', kind: 'bool' },
  { long: 'entrypoint', kind: 'value' },
  { long: 'user', short: 'u', kind: 'value' },
  { long: 'workdir', short: 'w', kind: 'value' },
  { long: 'stop-signal', kind: 'value' },
  { long: 'stop-timeout', kind: 'value' },
  { long: 'detach', short: 'd', kind: 'bool', ignore: true },
  { long: 'rm', kind: 'bool', ignore: true },
  { long: 'interactive', short: 'i', kind: 'bool', ignore: true },
  { long: 'tty', short: 't', kind: 'bool', ignore: true },
  { long: 'sig-proxy', kind: 'bool', ignore: true },
];

export const SUPPORTED_FLAGS: readonly string[] = FLAGS.filter((f) => !f.ignore).map((f) => (f.short ? `-${f.short}/--${f.long}` : `--${f.long}`));

const byLong = new Map(FLAGS.map((f) => [f.long, f]));
const byShort = new Map(FLAGS.filter((f) => f.short).map((f) => [f.short!, f]));

/** Why a known docker run flag is refused, and what to do instead. */
const REFUSED: Readonly<Record<string, string>> = {
  privileged: 'kiboko services have no privileged mode; remove --privileged (give the container only what it needs in its image)',
  pid: 'kiboko services run in their own namespaces; remove the flag',
  ipc: 'kiboko services run in their own namespaces; remove the flag',
  uts: 'kiboko services run in their own namespaces; remove the flag',
  userns: 'kiboko services run in their own namespaces; remove the flag',
  cgroupns: 'kiboko services run in their own namespaces; remove the flag',
  'publish-all': 'list each port with -p HOST:CONTAINER',
  link: 'services reach each other by service name on the project network; remove --link (order them with After=/Requires=)',
  'volumes-from': "mount the other service's named volume with -v NAME:/path instead",
  init: 'add an init (e.g. tini) to the image entrypoint, or remove --init',
  'cap-add': 'capabilities are not part of the service model; remove the flag',
  'cap-drop': 'capabilities are not part of the service model; remove the flag',
  device: 'devices are not part of the service model; remove the flag',
  'network-alias': 'every replica is reachable by its service name; remove the flag',
  'health-start-interval': 'remove it (kiboko supports --health-interval, --health-timeout, --health-retries, --health-start-period)',
  expose: 'services reach each other on every port of the project network; remove --expose (publish with -p)',
  pull: 'kiboko pulls images itself; remove --pull',
  platform: 'remove --platform (kiboko runs the image for the engine platform)',
};

const SHORT_REFUSED: Readonly<Record<string, string>> = { P: 'publish-all', m: 'memory', c: 'cpu-shares', h: 'hostname', a: 'attach', q: 'quiet' };

interface State {
  name?: string | undefined;
  ports: PortMapping[];
  envFiles: string[];
  envs: string[];
  labelFiles: string[];
  labels: string[];
  volumes: VolumeMount[];
  networks: string[];
  restart?: ServiceSpec['restart'] | undefined;
  health: { cmd?: string; intervalMs?: number; timeoutMs?: number; retries?: number; startPeriodMs?: number; set: boolean };
  noHealthcheck: boolean;
  entrypoint?: string[] | undefined;
  user?: string | undefined;
  workingDir?: string | undefined;
  stopSignal?: string | undefined;
  stopGracePeriodMs?: number | undefined;
  ignored: string[];
}

export function parseDockerRun(args: readonly string[], ctx: DockerRunContext): DockerRun {
  const where = ctx.line === undefined ? ctx.file : `${ctx.file}:${ctx.line}`;
  const fail = (message: string, hint: string): never => {
    throw invalidArgument(`${where}: ${message}`, hint);
  };
  const st: State = { ports: [], envFiles: [], envs: [], labelFiles: [], labels: [], volumes: [], networks: [], health: { set: false }, noHealthcheck: false, ignored: [] };

  let i = 0;
  const takeValue = (flag: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    if (i >= args.length) fail(`docker run ${flag} needs a value`, `write ${flag} VALUE (or ${flag}=VALUE)`);
    return args[i++]!;
  };
  const refuse = (flag: string, key: string): never =>
    fail(
      `unsupported docker run flag ${flag}`,
      REFUSED[key] ??
        `kiboko deploys the compose equivalent of the docker run line and understands ${SUPPORTED_FLAGS.join(', ')} (and ignores ${Object.keys(IGNORED_FLAGS).join(', ')}); remove ${flag} or move the service to a compose file`,
    );

  while (i < args.length) {
    const arg = args[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    i++;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const long = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      const def = byLong.get(long);
      if (!def) refuse(`--${long}`, long);
      apply(def!, `--${long}`, inline);
      continue;
    }
    // Short flags, possibly grouped (-dit) with the last taking a value (-dp 80:80, -p80:80, -p=80:80).
    for (let j = 1; j < arg.length; j++) {
      const ch = arg[j]!;
      const def = byShort.get(ch);
      if (!def) refuse(`-${ch}`, SHORT_REFUSED[ch] ?? ch);
      const rest = arg.slice(j + 1);
      if (def!.kind === 'value') {
        apply(def!, `-${ch}`, rest === '' ? undefined : rest.startsWith('=') ? rest.slice(1) : rest);
        break;
      }
      if (rest.startsWith('=')) {
        apply(def!, `-${ch}`, rest.slice(1));
        break;
      }
      apply(def!, `-${ch}`, undefined);
    }
  }

  const image = args[i];
  if (image === undefined || image === '') fail('docker run has no image', 'put the image after the flags: docker run [flags] IMAGE [command…]');
  const command = args.slice(i + 1);

  function apply(def: FlagDef, flag: string, inline: string | undefined): void {
    if (def.kind === 'bool') {
      const on =
        inline === undefined || inline === 'true' || inline === '1'
          ? true
          : inline === 'false' || inline === '0'
            ? false
            : fail(`${flag} expects true or false, got '${inline}'`, `write ${flag} or ${flag}=false`);
      if (def.ignore) {
        st.ignored.push(flag);
        return;
      }
      if (def.long === 'no-healthcheck') st.noHealthcheck = on;
      return;
    }
    const value = takeValue(flag, inline);
    switch (def.long) {
      case 'name':
        if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(value)) fail(`invalid container name '${value}' in --name`, 'a container name is letters, digits and _ . - (at least 2, starting with a letter or digit)');
        st.name = value;
        return;
      case 'publish':
        st.ports.push(...parsePublish(value, flag, fail));
        return;
      case 'env':
        st.envs.push(value);
        return;
      case 'env-file':
        st.envFiles.push(value);
        return;
      case 'label':
        st.labels.push(value);
        return;
      case 'label-file':
        st.labelFiles.push(value);
        return;
      case 'volume':
        st.volumes.push(parseVolume(value, flag, fail));
        return;
      case 'mount':
        st.volumes.push(parseMount(value, flag, fail));
        return;
      case 'network':
      case 'net':
        addNetwork(value, flag);
        return;
      case 'restart':
        st.restart = parseRestart(value, flag, fail);
        return;
      case 'health-cmd':
        st.health.cmd = value;
        st.health.set = true;
        return;
      case 'health-interval':
        st.health.intervalMs = duration(value, flag);
        st.health.set = true;
        return;
      case 'health-timeout':
        st.health.timeoutMs = duration(value, flag);
        st.health.set = true;
        return;
      case 'health-start-period':
        st.health.startPeriodMs = duration(value, flag);
        st.health.set = true;
        return;
      case 'health-retries':
        if (!/^\d+$/.test(value)) fail(`${flag} expects a whole number ≥ 0, got '${value}'`, `e.g. ${flag} 3`);
        st.health.retries = Number(value);
        st.health.set = true;
        return;
      case 'entrypoint':
        // As the docker CLI: the whole value is one executable, and '' resets the image's entrypoint.
        st.entrypoint = value === '' ? [] : [value];
        return;
      case 'user':
        if (value === '') fail(`${flag} needs a user`, `e.g. ${flag} 1000:1000 or ${flag} nobody`);
        st.user = value;
        return;
      case 'workdir':
        if (!value.startsWith('/')) fail(`${flag} expects an absolute path, got '${value}'`, `e.g. ${flag} /app`);
        st.workingDir = value;
        return;
      case 'stop-signal':
        try {
          st.stopSignal = parseSignal(value);
        } catch (err) {
          fail(`${flag}: ${(err as Error).message}`, (err as KibokoError).hint ?? 'use e.g. SIGTERM');
        }
        return;
      case 'stop-timeout':
        if (!/^\d+$/.test(value)) fail(`${flag} expects whole seconds ≥ 0, got '${value}'`, `e.g. ${flag} 30`);
        st.stopGracePeriodMs = Number(value) * 1000;
        return;
      default:
        throw new Error(`docker run flag --${def.long} has no handler`);
    }
  }

  function addNetwork(value: string, flag: string): void {
    // docker's default bridge is, for a deployed service, the project's default network.
    const name = value === 'bridge' ? 'default' : value;
    if (value === 'host' || value === 'none' || value.startsWith('container:')) {
      fail(`unsupported ${flag} ${value}`, "kiboko attaches services to the project's network; remove the flag and publish ports with -p");
    }
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(value)) {
      fail(`unsupported ${flag} '${value}'`, 'give a plain network name (network options such as alias= are not supported)');
    }
    if (!st.networks.includes(name)) st.networks.push(name);
  }

  function duration(value: string, flag: string): number {
    try {
      return parseDuration(value, flag);
    } catch (err) {
      return fail((err as Error).message, (err as KibokoError).hint ?? 'use e.g. 30s');
    }
  }

  if (st.noHealthcheck && st.health.set) fail('--no-healthcheck conflicts with --health-* options', 'keep either --no-healthcheck or the --health-* flags');

  const readFile = ctx.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const env = ctx.env ?? {};
  const readKv = (file: string, flag: string, lookup: boolean): string[] => {
    const path = isAbsolute(file) ? file : resolve(ctx.baseDir ?? '.', file);
    let text: string;
    try {
      text = readFile(path);
    } catch (err) {
      if (err instanceof KibokoError) throw err; // the caller's own refusal (a unit cannot name daemon files), as it is
      return fail(`cannot read ${flag} ${file}: ${(err as Error).message}`, `check that ${path} exists and is readable`);
    }
    return parseKvFile(text, (line, msg) => fail(`${flag} ${file}:${line}: ${msg}`, 'write one KEY=value per line (# starts a comment)'), lookup ? env : undefined);
  };

  const environment: Record<string, string> = {};
  for (const kv of [...st.envFiles.flatMap((f) => readKv(f, '--env-file', true)), ...st.envs]) {
    const eq = kv.indexOf('=');
    if (eq === 0) fail(`invalid environment variable '${kv}'`, 'write -e KEY=value or -e KEY');
    if (eq < 0) {
      const v = env[kv];
      if (v !== undefined) environment[kv] = v;
    } else environment[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const labels: Record<string, string> = {};
  for (const kv of [...st.labelFiles.flatMap((f) => readKv(f, '--label-file', false)), ...st.labels]) {
    const eq = kv.indexOf('=');
    if (eq === 0) fail(`invalid label '${kv}'`, 'write -l key=value');
    if (eq < 0) labels[kv] = '';
    else labels[kv.slice(0, eq)] = kv.slice(eq + 1);
  }

  let healthcheck: Healthcheck | undefined;
  if (st.noHealthcheck) healthcheck = { test: ['NONE'] };
  else if (st.health.set) {
    const h = st.health;
    healthcheck = {
      // No --health-cmd: the image's test is kept and only the timings change ([] inherits, as in the Engine API).
      test: h.cmd ? ['CMD-SHELL', h.cmd] : [],
      ...(h.intervalMs !== undefined ? { intervalMs: h.intervalMs } : {}),
      ...(h.timeoutMs !== undefined ? { timeoutMs: h.timeoutMs } : {}),
      ...(h.retries !== undefined ? { retries: h.retries } : {}),
      ...(h.startPeriodMs !== undefined ? { startPeriodMs: h.startPeriodMs } : {}),
    };
  }

  const service: ServiceSpec = {
    name: ctx.service,
    image: image!,
    ...(command.length ? { command } : {}),
    ...(st.entrypoint ? { entrypoint: st.entrypoint } : {}),
    environment,
    ports: st.ports,
    volumes: st.volumes,
    // As compose: a service that names no network is on the project's default network.
    networks: st.networks.length ? st.networks : ['default'],
    labels,
    ...(healthcheck ? { healthcheck } : {}),
    dependsOn: [],
    restart: st.restart ?? 'no',
    ...(st.user !== undefined ? { user: st.user } : {}),
    ...(st.workingDir !== undefined ? { workingDir: st.workingDir } : {}),
    ...(st.stopSignal !== undefined ? { stopSignal: st.stopSignal } : {}),
    ...(st.stopGracePeriodMs !== undefined ? { stopGracePeriodMs: st.stopGracePeriodMs } : {}),
    replicas: 1,
    update: { ...DEFAULT_UPDATE },
    rollback: { ...DEFAULT_ROLLBACK },
    tagPolicy: { kind: 'pinned' },
    origin: { file: ctx.file, ...(ctx.line !== undefined ? { line: ctx.line } : {}) },
  };
  return { service, containerName: st.name, restartSet: st.restart !== undefined, ignored: st.ignored };
}

type Fail = (message: string, hint: string) => never;

function parseRestart(value: string, flag: string, fail: Fail): ServiceSpec['restart'] {
  if (value === 'no' || value === 'always' || value === 'unless-stopped' || value === 'on-failure') return value;
  if (/^on-failure:\d+$/.test(value)) {
    return fail(`${flag} ${value}: a maximum retry count is not supported`, 'use --restart on-failure (kiboko restarts on failure without a limit)');
  }
  return fail(`invalid ${flag} '${value}'`, 'use no, always, unless-stopped or on-failure');
}

function parsePortNumber(s: string, what: string, spec: string, fail: Fail): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || lo < 1 || hi > 65535 || hi < lo) fail(`invalid ${what} '${s}' in -p ${spec}`, 'a port is 1-65535; a range is LOW-HIGH');
  return [lo, hi];
}

/** docker's nat.ParsePortSpec: `[ip:][hostPort:]containerPort[/proto]`, ranges expanded port by port. */
function parsePublish(spec: string, flag: string, fail: Fail): PortMapping[] {
  const hint = 'use CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER, optionally /udp, e.g. -p 127.0.0.1:8080:80/tcp';
  const slash = spec.lastIndexOf('/');
  const proto = slash < 0 ? 'tcp' : spec.slice(slash + 1).toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp') fail(`unsupported protocol '${proto}' in ${flag} ${spec}`, 'kiboko publishes tcp and udp ports');
  const body = slash < 0 ? spec : spec.slice(0, slash);
  const parts = body.split(':');
  const container = parts.at(-1)!;
  let hostPort = '';
  let ip = '';
  if (parts.length === 2) hostPort = parts[0]!;
  else if (parts.length >= 3) {
    hostPort = parts.at(-2)!;
    ip = parts.slice(0, -2).join(':');
  }
  if (container === '') fail(`missing container port in ${flag} ${spec}`, hint);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== '' && !isIp(ip)) fail(`invalid host IP '${ip}' in ${flag} ${spec}`, hint);
  const [clo, chi] = parsePortNumber(container, 'container port', spec, fail);
  const count = chi - clo + 1;
  let hlo: number | undefined;
  if (hostPort !== '') {
    const [lo, hi] = parsePortNumber(hostPort, 'host port', spec, fail);
    if (hi - lo + 1 !== count) {
      fail(`host and container port ranges differ in size in ${flag} ${spec}`, 'give ranges of the same size (a host range for one container port is not supported)');
    }
    hlo = lo;
  }
  return Array.from({ length: count }, (_, k) => ({
    ...(hlo !== undefined ? { published: hlo + k } : {}),
    ...(ip !== '' ? { hostIp: ip } : {}),
    target: clo + k,
    protocol: proto,
  }));
}

function isIp(s: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255);
  return /^[0-9a-fA-F:.]+$/.test(s) && s.includes(':') && (s.match(/::/g)?.length ?? 0) <= 1;
}

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** `-v`: `/target`, `NAME:/target`, `/host:/target`, each optionally `:ro` / `:rw`. */
function parseVolume(spec: string, flag: string, fail: Fail): VolumeMount {
  const parts = spec.split(':');
  let source: string | undefined;
  let target: string;
  let mode = '';
  if (parts.length === 1) target = parts[0]!;
  else if (parts.length === 2) {
    if (isMode(parts[1]!)) [target, mode] = [parts[0]!, parts[1]!];
    else [source, target] = [parts[0]!, parts[1]!];
  } else if (parts.length === 3) [source, target, mode] = [parts[0]!, parts[1]!, parts[2]!];
  else return fail(`invalid ${flag} ${spec}`, 'use /target, NAME:/target or /host/path:/target, optionally :ro');
  if (!target.startsWith('/')) fail(`invalid ${flag} ${spec}: the container path '${target}' is not absolute`, 'e.g. -v data:/var/lib/app');
  const modes = mode === '' ? [] : mode.split(',');
  for (const m of modes) {
    if (m !== 'ro' && m !== 'rw') fail(`unsupported volume option '${m}' in ${flag} ${spec}`, 'kiboko supports :ro and :rw');
  }
  const readOnly = modes.includes('ro');
  if (source === undefined) return { target, type: 'anonymous', readOnly };
  return { source: checkSource(source, `${flag} ${spec}`, fail), target, type: source.startsWith('/') ? 'bind' : 'volume', readOnly };
}

function isMode(s: string): boolean {
  return s !== '' && s.split(',').every((m) => /^(ro|rw|z|Z|shared|rshared|slave|rslave|private|rprivate|nocopy|cached|delegated|consistent)$/.test(m));
}

function checkSource(source: string, what: string, fail: Fail): string {
  if (source.startsWith('/')) return source;
  if (!VOLUME_NAME.test(source)) {
    fail(`invalid volume source '${source}' in ${what}`, 'a bind mount needs an absolute host path (/srv/data); a volume name is letters, digits and _ . -');
  }
  return source;
}

/** `--mount type=bind|volume,source=…,target=…[,readonly]` (CSV, as the docker CLI reads it). */
function parseMount(spec: string, flag: string, fail: Fail): VolumeMount {
  let type = 'volume';
  let source: string | undefined;
  let target: string | undefined;
  let readOnly = false;
  for (const field of parseCsv(spec, () => fail(`invalid ${flag} ${spec}: unbalanced quote`, 'quote whole fields: "target=/a,b"'))) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    const need = (): string => value ?? fail(`${flag}: ${key} needs a value in ${spec}`, `write ${key}=VALUE`);
    switch (key) {
      case 'type':
        type = need();
        if (type !== 'bind' && type !== 'volume') fail(`unsupported ${flag} type '${type}' in ${spec}`, 'kiboko mounts type=volume and type=bind');
        break;
      case 'source':
      case 'src':
        source = need();
        break;
      case 'target':
      case 'destination':
      case 'dst':
        target = need();
        break;
      case 'readonly':
      case 'ro':
        if (value === undefined || /^(true|1)$/i.test(value)) readOnly = true;
        else if (/^(false|0)$/i.test(value)) readOnly = false;
        else fail(`${flag}: ${key} expects true or false, got '${value}'`, `write ${key} or ${key}=false`);
        break;
      default:
        fail(`unsupported ${flag} option '${key}' in ${spec}`, 'kiboko supports type, source/src, target/destination/dst and readonly/ro');
    }
  }
  if (!target) return fail(`${flag} ${spec} has no target`, 'add target=/path/in/container');
  if (!target.startsWith('/')) fail(`invalid ${flag} ${spec}: the target '${target}' is not absolute`, 'e.g. target=/data');
  if (type === 'bind') {
    if (!source || !source.startsWith('/')) fail(`${flag} ${spec}: a bind mount needs an absolute source`, 'add source=/host/path');
    return { source: source!, target, type: 'bind', readOnly };
  }
  if (source === undefined || source === '') return { target, type: 'anonymous', readOnly };
  if (source.startsWith('/')) fail(`${flag} ${spec}: a volume source is a name, not a path`, 'use type=bind for a host path');
  return { source: checkSource(source, `${flag} ${spec}`, fail), target, type: 'volume', readOnly };
}

function parseCsv(text: string, unbalanced: () => never): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) unbalanced();
  fields.push(cur);
  return fields.filter((f) => f !== '');
}

/**
 * docker's env/label file format: `KEY=value` taken literally (no quotes, no expansion), `#`
 * comments, blank lines; a bare `KEY` takes the variable from `env` (when given) or is dropped.
 * Without `env` (labels) a bare KEY is kept as-is.
 */
function parseKvFile(text: string, bad: (line: number, message: string) => never, env?: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.replace(/^\s+/, '');
      if (line === '' || line.startsWith('#')) return;
      const eq = line.indexOf('=');
      const key = eq < 0 ? line : line.slice(0, eq);
      if (key === '') bad(i + 1, `no variable name in '${line}'`);
      if (/\s/.test(key)) bad(i + 1, `variable '${key}' contains whitespace`);
      if (eq >= 0) out.push(line);
      else if (!env) out.push(key);
      else {
        const v = env[key];
        if (v !== undefined) out.push(`${key}=${v}`);
      }
    });
  return out;
}
