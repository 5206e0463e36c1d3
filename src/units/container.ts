import { existsSync, realpathSync } from 'node:fs';
import { normalize } from 'node:path';
import { invalidArgument, KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import {
  expandEnvironment,
  fromOptions,
  lastSetting,
  listSetting,
  parseDockerRun,
  parseEnvironment,
  parseExec,
  parseUnitName,
  systemdRestart,
  volumeMounts,
  type ServiceSpec,
  type UnitFile,
} from '../deploy/index.js';
import type { ContainerSpec } from '../engine/index.js';
import { unitHash, type UnitOption } from './api.js';
import { dockerArgs, dockerSafe, HOUSEKEEPING_KEYS, parseUnitCommands, SUPPORTED_COMMANDS, type HousekeepingKey, type UnitCommand } from './commands.js';

export const UNIT_LABEL = 'kiboko.units.unit';
export const HASH_LABEL = 'kiboko.units.hash';

/** Everything needed to run a unit: its container, and the docker commands around it. */
export interface UnitRuntime {
  /** Docker-safe container name: `--name` (specifiers expanded, `:`/`@` made `-`), else `kiboko-unit-<name>`. */
  containerName: string;
  spec: ContainerSpec & { name: string };
  /** The container as kiboko's service model (for Swarm). */
  service: ServiceSpec;
  commands: Record<HousekeepingKey, UnitCommand[]>;
  /** Seconds `docker stop` waits (docker run --stop-timeout, else 10). */
  stopTimeoutSeconds: number;
  /** `docker run --rm`: the container is removed when the unit stops (loaded leaves no container). */
  autoRemove: boolean;
}

const EXEC_KEY = /^Exec[A-Za-z]*$/;

/**
 * Translates a fleet unit into what kiboko runs. Specifiers expand against the real unit name
 * (`%n` of `app:2.0.0@1.service` is that name), and only Docker object names (`--name`, the
 * operands of docker rm/kill/stop) are made Docker-safe. Throws an INVALID_ARGUMENT naming the
 * line when the unit cannot run as a container.
 */
/**
 * Which host paths a unit may bind-mount. A unit comes over the network and its container runs on
 * the daemon's host: a bind of `/` or of the engine socket is the host. Default: none;
 * `--allow-host-mounts` (true) allows any, or a list of host paths allows those and what is below them.
 */
export type HostMountPolicy = boolean | readonly string[];

const under = (path: string, root: string) => path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);

/** Refuses the unit's bind mounts the policy does not allow (its named volumes are the engine's, not the host's). */
export function checkHostMounts(name: string, volumes: readonly { type: string; source?: string | undefined; target: string }[], policy: HostMountPolicy = false): void {
  if (policy === true) return;
  for (const v of volumes) {
    if (v.type !== 'bind' || v.source === undefined) continue;
    // The host's view of the path: symlinks resolved where the daemon can see them (it usually runs on the engine's host).
    let real = normalize(v.source);
    try {
      if (existsSync(real)) real = realpathSync(real);
    } catch {
      // unreadable: judged by its name
    }
    const source = normalize(v.source);
    if (Array.isArray(policy) && policy.some((root) => under(real, normalize(root)) && under(source, normalize(root)))) continue;
    throw invalidArgument(
      `${name}: the bind mount of host path ${v.source} is refused — a unit's container runs on the daemon's host, and a host path (above all / or the engine socket) gives it the host`,
      Array.isArray(policy) && policy.length ? `allowed host paths: ${policy.join(', ')}; use a named volume (-v NAME:${v.target}) or ask the operator to allow the path` : `use a named volume (-v NAME:${v.target}), or start kiboko serve with --allow-host-mounts (all paths) or --allow-host-mounts /srv,/data (those)`,
    );
  }
}

export function unitRuntime(name: string, options: readonly UnitOption[], hostMounts: HostMountPolicy = false): UnitRuntime {
  const unitName = parseUnitName(name);
  if (unitName.type !== 'service') throw invalidArgument(`${name} is a .${unitName.type} unit; kiboko runs .service units as containers`, 'submit a .service unit whose ExecStart is a docker run line');
  const unit: UnitFile = fromOptions(options);
  const type = lastSetting(unit, 'Service', 'Type');
  if (type && (type.value === 'oneshot' || type.value === 'forking')) {
    throw invalidArgument(`${name}: Type=${type.value} is not a long-running container`, 'remove Type= (simple is the default)');
  }
  for (const s of unit.sections) {
    if (s.name !== 'Service') continue;
    for (const e of s.entries) {
      if (EXEC_KEY.test(e.key) && e.key !== 'ExecStart' && !(HOUSEKEEPING_KEYS as readonly string[]).includes(e.key)) {
        throw invalidArgument(`${name}: ${e.key}= is not supported`, `kiboko runs ExecStart (docker run) and ${HOUSEKEEPING_KEYS.join(', ')} lines with ${SUPPORTED_COMMANDS}`);
      }
    }
  }
  const env = parseEnvironment(listSetting(unit, 'Service', 'Environment'), { unitName, where: name });

  const starts = listSetting(unit, 'Service', 'ExecStart');
  if (starts.length === 0) throw invalidArgument(`${name} has no ExecStart`, 'add ExecStart=/usr/bin/docker run --name NAME IMAGE to the [Service] section');
  if (starts.length > 1) throw invalidArgument(`${name} has more than one ExecStart`, 'a unit runs one container: keep one docker run line');
  const line = `ExecStart=${starts[0]!.value}`;
  const cmds = parseExec(starts[0]!.value, { unitName, where: `${name} ExecStart` });
  if (cmds.length !== 1) throw invalidArgument(`${name}: ${line}: one command expected, got ${cmds.length}`, 'a unit runs one container: keep one docker run line');
  const cmd = cmds[0]!;
  let argv = [...cmd.argv];
  if (!cmd.flags.noEnvironmentExpansion) {
    const expanded = expandEnvironment(argv, env);
    if (expanded.missing.length) {
      throw invalidArgument(`${name}: ${line}: uses ${expanded.missing.map((m) => `$${m}`).join(', ')}, which the unit's Environment= does not set`, 'set it with Environment= in the unit (kiboko does not read EnvironmentFile=); write $$ for a literal $');
    }
    argv = expanded.argv;
  }
  const args = dockerArgs(cmd, argv);
  if (!args || args[0] !== 'run') {
    throw invalidArgument(
      `${name}: ExecStart is not a docker run line — kiboko runs units as containers; got '${argv.join(' ')}'`,
      'write ExecStart=/usr/bin/docker run [flags] IMAGE [command…], or start the daemon with --allow-any-exec-start to store such units (they will not run)',
    );
  }
  const run = parseRun(name, args.slice(1), env);
  const service = run.service;
  checkHostMounts(name, service.volumes, hostMounts);
  const restart = run.restartSet ? service.restart : (systemdRestart(unit, name, false) ?? service.restart);
  const containerName = run.containerName ?? dockerSafe(`kiboko-unit-${name}`);

  const commands = Object.fromEntries(HOUSEKEEPING_KEYS.map((k) => [k, listSetting(unit, 'Service', k).flatMap((e) => parseUnitCommands(k, e.value, { unitName, env }))])) as Record<HousekeepingKey, UnitCommand[]>;

  const { binds, anonymous } = volumeMounts(service.volumes, (named) => named);
  const nets = service.networks.filter((n) => n !== 'default');
  const spec: ContainerSpec & { name: string } = {
    name: containerName,
    image: service.image,
    ...(service.command ? { cmd: service.command } : {}),
    ...(service.entrypoint ? { entrypoint: service.entrypoint } : {}),
    env: Object.entries(service.environment).map(([k, v]) => `${k}=${v}`),
    labels: { ...service.labels, [LABELS.managed]: 'true', [UNIT_LABEL]: name, [HASH_LABEL]: unitHash(options) },
    ports: service.ports,
    binds,
    volumes: anonymous,
    ...(nets.length ? { networks: nets.map((n) => ({ name: n })) } : {}),
    ...(service.healthcheck ? { healthcheck: service.healthcheck } : {}),
    restartPolicy: { name: restart },
    ...(service.user !== undefined ? { user: service.user } : {}),
    ...(service.workingDir !== undefined ? { workingDir: service.workingDir } : {}),
    ...(service.stopSignal !== undefined ? { stopSignal: service.stopSignal } : {}),
    ...(service.stopGracePeriodMs !== undefined ? { stopTimeout: Math.ceil(service.stopGracePeriodMs / 1000) } : {}),
  };
  return {
    containerName,
    spec,
    service: { ...service, name: containerName, restart },
    commands,
    stopTimeoutSeconds: service.stopGracePeriodMs === undefined ? 10 : Math.ceil(service.stopGracePeriodMs / 1000),
    autoRemove: run.autoRemove,
  };
}

/**
 * `docker run` arguments → the service, with `--name` made Docker-safe first. Which words are
 * flags depends on docker's flag table, so the image position comes from a first parse and a
 * `--name` after the image (a command argument) is left as written.
 */
function parseRun(name: string, args: readonly string[], env: Readonly<Record<string, string>>) {
  // A unit arrives over the API with no folder of its own: --env-file/--label-file would read the
  // daemon's files (relative to its working directory), so they are refused without touching the
  // file system — the message says neither what is in a file nor whether it exists.
  const readFile = (): never => {
    throw invalidArgument(`${name}: --env-file and --label-file cannot be used in a unit — the daemon does not read files from its host for a unit`, 'put the values in the unit: Environment=KEY=value with -e KEY, or -e KEY=value and -l key=value on the docker run line');
  };
  const ctx = { service: 'unit', file: name, env, readFile };
  const positions: number[] = [];
  const safe = args.map((a, i) => {
    if (a.startsWith('--name=')) {
      positions.push(i);
      return `--name=${dockerSafe(a.slice('--name='.length))}`;
    }
    if (i > 0 && args[i - 1] === '--name') {
      positions.push(i);
      return dockerSafe(a);
    }
    return a;
  });
  const first = parseDockerRun(safe, ctx);
  const imageAt = args.length - (first.service.command?.length ?? 0) - 1;
  const autoRemove = rmFlag(args.slice(0, imageAt));
  if (positions.every((p) => p < imageAt)) return { ...first, autoRemove };
  const mixed = safe.map((a, i) => (i >= imageAt ? args[i]! : a));
  return { ...parseDockerRun(mixed, ctx), autoRemove };
}

/** Whether docker run's flags (before the image) ask for `--rm` (the last of `--rm`, `--rm=true|false|1|0` wins). */
function rmFlag(flags: readonly string[]): boolean {
  let on = false;
  for (const f of flags) {
    if (f === '--') break;
    if (f === '--rm') on = true;
    else if (f.startsWith('--rm=')) on = f.slice(5) === 'true' || f.slice(5) === '1';
  }
  return on;
}

/**
 * The runtime, or why the unit cannot run (message with hint). A template (`app@.service`) is
 * checked as an instance would be (`%i` is empty in a template, so `--name %i` would not do).
 */
export function tryUnitRuntime(name: string, options: readonly UnitOption[], hostMounts: HostMountPolicy = false): UnitRuntime | { error: string } {
  const sample = /@\.[a-z]+$/.test(name) ? name.replace(/@\./, '@instance.') : name;
  try {
    return unitRuntime(sample, options, hostMounts);
  } catch (err) {
    const text = err instanceof KibokoError ? `${err.message}${err.hint ? ` — ${err.hint}` : ''}` : (err as Error).message;
    return { error: sample === name ? text : text.replaceAll(sample, name) };
  }
}
