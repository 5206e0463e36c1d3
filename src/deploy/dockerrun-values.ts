import type { PortMapping, ServiceSpec, VolumeMount } from './model.js';

/**
 * The values of docker run flags, read as the docker CLI reads them (ports, volumes, mounts,
 * restart policies, env and label files). Each takes `fail`, which throws the caller's error
 * (file and line in front).
 */

export type Fail = (message: string, hint: string) => never;

export function parseRestart(value: string, flag: string, fail: Fail): ServiceSpec['restart'] {
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
export function parsePublish(spec: string, flag: string, fail: Fail): PortMapping[] {
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
export function parseVolume(spec: string, flag: string, fail: Fail): VolumeMount {
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
export function parseMount(spec: string, flag: string, fail: Fail): VolumeMount {
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
export function parseKvFile(text: string, bad: (line: number, message: string) => never, env?: Readonly<Record<string, string | undefined>>): string[] {
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
