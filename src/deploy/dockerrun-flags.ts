import type { KibokoError } from '../common/errors.js';
import { parseDuration } from '../common/duration.js';
import { parseSignal } from '../common/signals.js';
import { parseMount, parsePublish, parseRestart, parseVolume, type Fail } from './dockerrun-values.js';
import type { PortMapping, ServiceSpec, VolumeMount } from './model.js';

/**
 * The docker run flags kiboko understands, one entry each: its names, its arity (a bool takes no
 * value or `=true`/`=false`; a value flag takes the next word or `=VALUE`) and what it sets in the
 * parse state. parseDockerRun walks argv against this table; a flag not in it is refused by name.
 */

/** What the flags of one docker run line have said so far. */
export interface RunState {
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

export function emptyRunState(): RunState {
  return { ports: [], envFiles: [], envs: [], labelFiles: [], labels: [], volumes: [], networks: [], health: { set: false }, noHealthcheck: false, ignored: [] };
}

interface FlagNames {
  long: string;
  short?: string;
}

/** A flag that takes a value: `set` reads it into the state (or fails with the flag's own message). */
interface ValueFlag extends FlagNames {
  arity: 'value';
  set: (st: RunState, value: string, flag: string, fail: Fail) => void;
}

/** A boolean flag: `set` gets its truth, or `ignore` records it as accepted-and-ignored. */
interface BoolFlag extends FlagNames {
  arity: 'bool';
  set?: (st: RunState, on: boolean) => void;
  ignore?: boolean;
}

export type FlagDef = ValueFlag | BoolFlag;

/** A --health-* timing: a duration, and the healthcheck counts as set. */
const healthTiming =
  (key: 'intervalMs' | 'timeoutMs' | 'startPeriodMs') =>
  (st: RunState, value: string, flag: string, fail: Fail): void => {
    st.health[key] = duration(value, flag, fail);
    st.health.set = true;
  };

const FLAGS: readonly FlagDef[] = [
  { long: 'name', arity: 'value', set: setName },
  { long: 'publish', short: 'p', arity: 'value', set: (st, v, flag, fail) => void st.ports.push(...parsePublish(v, flag, fail)) },
  { long: 'env', short: 'e', arity: 'value', set: (st, v) => void st.envs.push(v) },
  { long: 'env-file', arity: 'value', set: (st, v) => void st.envFiles.push(v) },
  { long: 'volume', short: 'v', arity: 'value', set: (st, v, flag, fail) => void st.volumes.push(parseVolume(v, flag, fail)) },
  { long: 'mount', arity: 'value', set: (st, v, flag, fail) => void st.volumes.push(parseMount(v, flag, fail)) },
  { long: 'network', arity: 'value', set: addNetwork },
  { long: 'net', arity: 'value', set: addNetwork },
  { long: 'label', short: 'l', arity: 'value', set: (st, v) => void st.labels.push(v) },
  { long: 'label-file', arity: 'value', set: (st, v) => void st.labelFiles.push(v) },
  { long: 'restart', arity: 'value', set: (st, v, flag, fail) => void (st.restart = parseRestart(v, flag, fail)) },
  { long: 'health-cmd', arity: 'value', set: setHealthCmd },
  { long: 'health-interval', arity: 'value', set: healthTiming('intervalMs') },
  { long: 'health-timeout', arity: 'value', set: healthTiming('timeoutMs') },
  { long: 'health-retries', arity: 'value', set: setHealthRetries },
  { long: 'health-start-period', arity: 'value', set: healthTiming('startPeriodMs') },
  { long: 'no-healthcheck', arity: 'bool', set: (st, on) => void (st.noHealthcheck = on) },
  { long: 'entrypoint', arity: 'value', set: setEntrypoint },
  { long: 'user', short: 'u', arity: 'value', set: setUser },
  { long: 'workdir', short: 'w', arity: 'value', set: setWorkdir },
  { long: 'stop-signal', arity: 'value', set: setStopSignal },
  { long: 'stop-timeout', arity: 'value', set: setStopTimeout },
  { long: 'detach', short: 'd', arity: 'bool', ignore: true },
  { long: 'rm', arity: 'bool', ignore: true },
  { long: 'interactive', short: 'i', arity: 'bool', ignore: true },
  { long: 'tty', short: 't', arity: 'bool', ignore: true },
  { long: 'sig-proxy', arity: 'bool', ignore: true },
];

/** Flags accepted because kiboko does what they ask for (or they do not matter for a managed service). */
export const IGNORED_FLAGS: Readonly<Record<string, string>> = {
  '-d/--detach': 'kiboko always runs services detached',
  '--rm': 'kiboko removes the containers it replaces',
  '-i/--interactive': 'no one attaches to a deployed service',
  '-t/--tty': 'no one attaches to a deployed service',
  '--sig-proxy': 'only matters for an attached docker client',
};

export const SUPPORTED_FLAGS: readonly string[] = FLAGS.filter((f) => !(f.arity === 'bool' && f.ignore)).map((f) => (f.short ? `-${f.short}/--${f.long}` : `--${f.long}`));

export const FLAGS_BY_LONG: ReadonlyMap<string, FlagDef> = new Map(FLAGS.map((f) => [f.long, f]));
export const FLAGS_BY_SHORT: ReadonlyMap<string, FlagDef> = new Map(FLAGS.filter((f) => f.short).map((f) => [f.short!, f]));

/** Why a known docker run flag is refused, and what to do instead. */
export const REFUSED: Readonly<Record<string, string>> = {
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

export const SHORT_REFUSED: Readonly<Record<string, string>> = { P: 'publish-all', m: 'memory', c: 'cpu-shares', h: 'hostname', a: 'attach', q: 'quiet' };

function setName(st: RunState, value: string, flag: string, fail: Fail): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(value)) fail(`invalid container name '${value}' in --name`, 'a container name is letters, digits and _ . - (at least 2, starting with a letter or digit)');
  st.name = value;
}

function addNetwork(st: RunState, value: string, flag: string, fail: Fail): void {
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

function setHealthCmd(st: RunState, value: string): void {
  st.health.cmd = value;
  st.health.set = true;
}

function setHealthRetries(st: RunState, value: string, flag: string, fail: Fail): void {
  if (!/^\d+$/.test(value)) fail(`${flag} expects a whole number ≥ 0, got '${value}'`, `e.g. ${flag} 3`);
  st.health.retries = Number(value);
  st.health.set = true;
}

function setEntrypoint(st: RunState, value: string): void {
  // As the docker CLI: the whole value is one executable, and '' resets the image's entrypoint.
  st.entrypoint = value === '' ? [] : [value];
}

function setUser(st: RunState, value: string, flag: string, fail: Fail): void {
  if (value === '') fail(`${flag} needs a user`, `e.g. ${flag} 1000:1000 or ${flag} nobody`);
  st.user = value;
}

function setWorkdir(st: RunState, value: string, flag: string, fail: Fail): void {
  if (!value.startsWith('/')) fail(`${flag} expects an absolute path, got '${value}'`, `e.g. ${flag} /app`);
  st.workingDir = value;
}

function setStopSignal(st: RunState, value: string, flag: string, fail: Fail): void {
  try {
    st.stopSignal = parseSignal(value);
  } catch (err) {
    fail(`${flag}: ${(err as Error).message}`, (err as KibokoError).hint ?? 'use e.g. SIGTERM');
  }
}

function setStopTimeout(st: RunState, value: string, flag: string, fail: Fail): void {
  if (!/^\d+$/.test(value)) fail(`${flag} expects whole seconds ≥ 0, got '${value}'`, `e.g. ${flag} 30`);
  st.stopGracePeriodMs = Number(value) * 1000;
}

function duration(value: string, flag: string, fail: Fail): number {
  try {
    return parseDuration(value, flag);
  } catch (err) {
    return fail((err as Error).message, (err as KibokoError).hint ?? 'use e.g. 30s');
  }
}
