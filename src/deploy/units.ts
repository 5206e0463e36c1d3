import { readFileSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { KibokoError, invalidArgument } from '../common/errors.js';
import { parseDockerRun } from './dockerrun.js';
import type { ServiceSpec, SystemConfig } from './model.js';
import { own } from '../common/own.js';
import {
  type ExecCommand,
  type UnitFile,
  type UnitName,
  entries,
  expandEnvironment,
  expandSpecifiers,
  lastSetting,
  listSetting,
  parseEnvironment,
  parseExec,
  parseUnitFile,
  parseUnitName,
  splitWords,
} from './unitfile.js';

/**
 * fleet-style unit folders → a SystemConfig. Each `*.service` whose ExecStart is a `docker run`
 * line becomes the service compose would declare for that line; template instances
 * (`web@1.service`, `web@2.service`) become one service with that many replicas; `[X-Fleet]`
 * scheduling options travel beside the model in `placement`, for the fleet-compatible units API.
 */

export interface PlacementOption {
  readonly name: string;
  /** Specifiers expanded for this unit. */
  readonly value: string;
  readonly line: number;
}

/** The `[X-Fleet]` options of one unit file. */
export interface PlacementEntry {
  readonly unit: string;
  readonly options: readonly PlacementOption[];
}

/** `[X-Fleet]` options by service (one entry per unit with any; template instances each have theirs). */
export type Placement = Readonly<Record<string, readonly PlacementEntry[]>>;

export interface UnitFolderConfig extends SystemConfig {
  /** Side channel, not part of the deploy model: fleet's scheduling options. */
  readonly placement: Placement;
}

export interface LoadUnitsOptions {
  /** Project name; default: the folder's name, normalized as compose does. */
  projectName?: string | undefined;
  /**
   * The environment `$VAR`/`${VAR}` in Exec lines and `docker run -e KEY` read, under the unit's
   * own `Environment=` (which wins). Default: process.env.
   */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** One unit to translate: its name (`web@1.service`), parsed content and where it came from. */
export interface UnitSource {
  readonly name: string;
  readonly unit: UnitFile;
  /** Path (or other label) for messages and `origin`. */
  readonly file: string;
}

const DEPENDENCY_KEYS = ['Requires', 'Requisite', 'BindsTo', 'Wants', 'After'] as const;
const HOUSEKEEPING_KEYS = ['ExecStartPre', 'ExecStartPost', 'ExecStop', 'ExecStopPost', 'ExecReload', 'ExecCondition'] as const;
const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Reads every `*.service` in `dir` (following symlinks) and translates the folder. */
export function loadUnitFolder(dir: string, options: LoadUnitsOptions = {}): UnitFolderConfig {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.service')).sort();
  } catch (err) {
    throw invalidArgument(`cannot read unit folder ${dir}: ${(err as Error).message}`, 'give the folder that holds your *.service files', err);
  }
  if (names.length === 0) throw invalidArgument(`no *.service unit files in ${dir}`, 'give the folder that holds your fleet unit files');
  const project = options.projectName ?? projectFromFolder(dir);
  const sources: UnitSource[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const parsedName = tryUnitName(name, file);
    if (parsedName.instance === '' && names.some((n) => n !== name && n.startsWith(`${parsedName.prefix}@`))) {
      continue; // a template with instances: the instance files (often symlinks to it) are what runs
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw invalidArgument(`cannot read ${file}: ${(err as Error).message}`, 'check the file (a symlink must point to an existing template)', err);
    }
    sources.push({ name, unit: parseUnitFile(text, file), file });
  }
  return translateUnits(sources, { ...options, projectName: project, baseDir: dir });
}

/**
 * The pure core: parsed units → configuration. Templates without instances are refused (fleet
 * would not run them either); instances must agree on everything but names using `%i`.
 */
export function translateUnits(
  units: readonly UnitSource[],
  options: LoadUnitsOptions & { projectName: string; baseDir?: string | undefined; readFile?: ((path: string) => string) | undefined },
): UnitFolderConfig {
  const project = checkProject(options.projectName);
  const env = options.env ?? process.env;
  const named = units.map((u) => ({ ...u, unitName: tryUnitName(u.name, u.file) }));

  for (const u of named) {
    if (u.unitName.type !== 'service') throw invalidArgument(`${u.file}: ${u.name} is not a .service unit`, 'kiboko deploys .service units (containers)');
    if (u.unitName.instance === '') {
      throw invalidArgument(
        `${u.file}: ${u.name} is a template without instances`,
        `create ${u.unitName.prefix}@1.service, ${u.unitName.prefix}@2.service … (symlinks to the template work): each instance is a replica`,
      );
    }
    if (!SERVICE_NAME.test(u.unitName.prefix)) {
      throw invalidArgument(`${u.file}: '${u.unitName.prefix}' cannot be a service name`, 'name the unit with letters, digits and _ . - (e.g. my-service.service)');
    }
  }

  // Which service each unit of the folder becomes, for dependencies.
  const kindOf = new Map<string, { plain?: string; instances: string[] }>();
  for (const u of named) {
    const k = kindOf.get(u.unitName.prefix) ?? { instances: [] };
    if (u.unitName.instance === undefined) k.plain = u.name;
    else k.instances.push(u.name);
    kindOf.set(u.unitName.prefix, k);
  }
  for (const [service, k] of kindOf) {
    if (k.plain && k.instances.length) {
      throw invalidArgument(
        `both ${k.plain} and ${k.instances[0]} would be service '${service}'`,
        `rename one of them: a template's instances (${service}@N.service) are the replicas of service ${service}`,
      );
    }
  }
  const serviceOfUnit = (ref: string): string | undefined => {
    let n: UnitName;
    try {
      n = parseUnitName(ref);
    } catch {
      return undefined;
    }
    const k = n.type === 'service' ? kindOf.get(n.prefix) : undefined;
    if (!k) return undefined;
    if (n.instance === undefined) return k.plain ? n.prefix : undefined;
    return k.instances.length ? n.prefix : undefined;
  };

  const translated = named.map((u) => translateUnit(u, u.unitName, { env, baseDir: options.baseDir, readFile: options.readFile, serviceOfUnit }));

  const services: ServiceSpec[] = [];
  const placement: Record<string, PlacementEntry[]> = {};
  for (const [service] of kindOf) {
    const group = translated.filter((t) => t.service.name === service);
    const [first, ...others] = group;
    for (const other of others) {
      const diff = differingKeys(first!.service, other.service);
      if (diff.length) {
        throw invalidArgument(
          `${first!.unit} and ${other.unit} differ in ${diff.join(', ')}: instances of a template become replicas of one service and must run the same container`,
          'make the instances identical (only names such as --name may use %i), or give them unit files of their own',
        );
      }
    }
    services.push({ ...first!.service, replicas: group.length });
    const entriesWithPlacement = group.filter((t) => t.placement.length).map((t) => ({ unit: t.unit, options: t.placement }));
    if (entriesWithPlacement.length) placement[service] = entriesWithPlacement;
  }

  const networks = [...new Set(services.flatMap((s) => s.networks))].filter((n) => n !== 'default').sort();
  const volumes = [...new Set(services.flatMap((s) => s.volumes.filter((v) => v.type === 'volume' && v.source).map((v) => v.source!)))].sort();
  return { project, services, networks, volumes, sources: units.map((u) => u.file), placement };
}

interface Translated {
  unit: string;
  service: ServiceSpec;
  placement: PlacementOption[];
}

function translateUnit(
  src: UnitSource,
  unitName: UnitName,
  ctx: {
    env: Readonly<Record<string, string | undefined>>;
    baseDir: string | undefined;
    readFile: ((path: string) => string) | undefined;
    serviceOfUnit: (ref: string) => string | undefined;
  },
): Translated {
  const { unit, file, name } = src;
  const service = unitName.prefix;
  const unitEnv = parseEnvironment(listSetting(unit, 'Service', 'Environment'), { unitName, where: file });
  const env = { ...ctx.env, ...unitEnv };
  const hasEnvFile = entries(unit, 'Service', 'EnvironmentFile').some((e) => e.value !== '');

  const type = lastSetting(unit, 'Service', 'Type');
  if (type && (type.value === 'oneshot' || type.value === 'forking')) {
    throw invalidArgument(`${file}:${type.line}: Type=${type.value} is not a long-running container`, 'kiboko deploys services that keep running; remove Type= (simple is the default)');
  }

  const commands = (key: string) =>
    listSetting(unit, 'Service', key).flatMap((e) =>
      parseExec(e.value, { unitName, where: `${file}:${e.line}` }).map((cmd) => ({ entry: e, cmd, argv: expandArgv(cmd, env, `${file}:${e.line}`, key, hasEnvFile) })),
    );

  const starts = commands('ExecStart');
  if (starts.length === 0) {
    throw invalidArgument(`${file}: ${name} has no ExecStart`, 'add ExecStart=/usr/bin/docker run --name NAME IMAGE to the [Service] section');
  }
  if (starts.length > 1) {
    throw invalidArgument(`${file}:${starts[1]!.entry.line}: ${name} has more than one ExecStart command`, 'a service runs one container: keep one docker run line');
  }
  const start = starts[0]!;
  const where = `${file}:${start.entry.line}`;
  const docker = dockerCommand(start.cmd, start.argv);
  if (!docker || docker.sub !== 'run') {
    throw invalidArgument(
      `${where}: ExecStart of ${name} is not a docker run line — kiboko deploys containers; got '${start.argv.join(' ')}'`,
      'write ExecStart=/usr/bin/docker run [flags] IMAGE [command…] (not through a shell: systemd expands ${VAR} from Environment= itself)',
    );
  }
  const run = parseDockerRun(docker.args, { service, file, line: start.entry.line, env, baseDir: ctx.baseDir, readFile: ctx.readFile });

  let restart = run.service.restart;
  if (!run.restartSet) restart = systemdRestart(unit, file) ?? restart;

  for (const key of HOUSEKEEPING_KEYS) {
    for (const { entry, cmd, argv } of commands(key)) {
      checkHousekeeping(`${file}:${entry.line}`, key, name, cmd, argv, run.containerName, run.service.image);
    }
  }

  const dependsOn: ServiceSpec['dependsOn'][number][] = [];
  for (const key of DEPENDENCY_KEYS) {
    for (const e of entries(unit, 'Unit', key)) {
      for (const word of splitWords(e.value, `${file}:${e.line}`)) {
        const target = ctx.serviceOfUnit(expandSpecifiers(word, unitName, `${file}:${e.line}`));
        if (target && target !== service && !dependsOn.some((d) => d.service === target)) dependsOn.push({ service: target, condition: 'service_started' });
      }
    }
  }

  const placement = unit.sections
    .filter((s) => s.name === 'X-Fleet')
    .flatMap((s) => s.entries.map((e) => ({ name: e.key, value: expandSpecifiers(e.value, unitName, `${file}:${e.line}`), line: e.line })));

  return { unit: name, service: { ...run.service, restart, dependsOn }, placement };
}

function expandArgv(cmd: ExecCommand, env: Readonly<Record<string, string | undefined>>, where: string, key: string, hasEnvFile: boolean): string[] {
  if (cmd.flags.noEnvironmentExpansion) return [...cmd.argv];
  const { argv, missing } = expandEnvironment(cmd.argv, env);
  if (missing.length) {
    throw invalidArgument(
      `${where}: ${key} uses ${missing.map((m) => `$${m}`).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not set`,
      `set ${missing.join(', ')} with Environment= in the unit or in kiboko's environment${hasEnvFile ? ' (kiboko does not read EnvironmentFile=: it names a file on the fleet machine)' : ''}; write $$ for a literal $`,
    );
  }
  return argv;
}

/**
 * The arguments after `docker` in `docker SUB args`, `/usr/bin/docker …` or `/usr/bin/env docker …`
 * (argv[0] is the program), `docker GROUP SUB` folded to `docker SUB` for the groups named;
 * undefined when the program is not docker.
 */
export function dockerArgs(cmd: ExecCommand, argv: readonly string[], groups: readonly string[] = ['container']): string[] | undefined {
  let bin = cmd.path;
  let args = argv.slice(1);
  if (basename(bin) === 'env' && args[0] !== undefined && (args[0] === 'docker' || args[0].endsWith('/docker'))) {
    bin = args[0];
    args = args.slice(1);
  }
  if (bin !== 'docker' && !bin.endsWith('/docker')) return undefined;
  if (args[0] !== undefined && groups.includes(args[0]) && args[1] !== undefined) args = args.slice(1);
  return args;
}

/** `docker SUB args`, `/usr/bin/docker …`, `/usr/bin/env docker …`, `docker container SUB …`. */
function dockerCommand(cmd: ExecCommand, argv: readonly string[]): { sub: string; args: string[] } | undefined {
  const args = dockerArgs(cmd, argv);
  if (args?.[0] === undefined) return undefined;
  return { sub: args[0], args: args.slice(1) };
}

/** Flags of the housekeeping commands that take a value (the rest are booleans). */
const HOUSEKEEPING_VALUE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  kill: ['-s', '--signal'],
  rm: [],
  stop: ['-t', '--time', '--timeout', '-s', '--signal'],
  pull: ['--platform'],
};

function checkHousekeeping(where: string, key: string, unitName: string, cmd: ExecCommand, argv: readonly string[], container: string | undefined, image: string): void {
  const hint = 'remove the line: kiboko pulls, stops, kills and removes the containers it manages itself';
  const docker = dockerCommand(cmd, argv);
  const valueFlags = docker ? own(HOUSEKEEPING_VALUE_FLAGS, docker.sub) : undefined;
  if (!docker || !valueFlags) {
    throw invalidArgument(
      `${where}: ${key} of ${unitName} runs '${argv.join(' ')}' — kiboko runs only the container; it understands docker kill, rm, stop and pull of the unit's own container as housekeeping`,
      hint,
    );
  }
  const operands: string[] = [];
  for (let i = 0; i < docker.args.length; i++) {
    const a = docker.args[i]!;
    if (a === '--') {
      operands.push(...docker.args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') operands.push(a);
    else if (a.includes('=')) continue;
    else if (valueFlags.includes(a)) i++;
    else if (!a.startsWith('--') && valueFlags.includes(a.slice(0, 2))) continue; // -t10
  }
  if (docker.sub === 'pull') {
    if (operands.length !== 1 || repository(operands[0]!) !== repository(image)) {
      throw invalidArgument(`${where}: ${key} of ${unitName} pulls '${operands.join(' ')}', not the unit's image ${image}`, hint);
    }
    return;
  }
  if (operands.length === 0) throw invalidArgument(`${where}: ${key} of ${unitName}: docker ${docker.sub} names no container`, hint);
  const foreign = operands.filter((o) => o !== container);
  if (foreign.length) {
    throw invalidArgument(
      `${where}: ${key} of ${unitName} runs docker ${docker.sub} on ${foreign.join(', ')}, ${container ? `not on the unit's container ${container}` : 'but the docker run line has no --name'}`,
      container ? 'kiboko only acts on the containers of its services; remove the line' : `add --name ${foreign[0]} to the docker run line, or remove the line`,
    );
  }
}

/** `repo/name:tag` or `repo/name@sha256:…` → `repo/name`. */
function repository(ref: string): string {
  const at = ref.indexOf('@');
  const base = at >= 0 ? ref.slice(0, at) : ref;
  const colon = base.lastIndexOf(':');
  return colon > base.lastIndexOf('/') ? base.slice(0, colon) : base;
}

/**
 * systemd restarts the `docker run` client under `Restart=`, i.e. the container: the compose
 * equivalent is the container's restart policy (used when docker run has no --restart).
 * `where` names the file (with the setting's line) or the unit (`withLine` false) in errors.
 */
export function systemdRestart(unit: UnitFile, where: string, withLine = true): ServiceSpec['restart'] | undefined {
  const r = lastSetting(unit, 'Service', 'Restart');
  if (!r || r.value === '') return undefined;
  switch (r.value) {
    case 'no':
      return 'no';
    case 'always':
      return 'always';
    case 'on-failure':
    case 'on-abnormal':
    case 'on-abort':
    case 'on-watchdog':
      return 'on-failure';
    default:
      throw invalidArgument(`${withLine ? `${where}:${r.line}` : where}: Restart=${r.value} has no container equivalent`, 'use Restart=always, Restart=on-failure or Restart=no (or docker run --restart)');
  }
}

function differingKeys(a: ServiceSpec, b: ServiceSpec): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => k !== 'origin').sort();
  return keys.filter((k) => stable((a as unknown as Record<string, unknown>)[k]) !== stable((b as unknown as Record<string, unknown>)[k]));
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    const e = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${e.map(([k, x]) => `${JSON.stringify(k)}:${stable(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

function tryUnitName(name: string, file: string): UnitName {
  try {
    return parseUnitName(name);
  } catch (err) {
    throw err instanceof KibokoError ? invalidArgument(`${file}: ${err.message}`, err.hint) : err;
  }
}

/** compose's rule: lower case, only a-z 0-9 _ -, starting with a letter or digit. */
function projectFromFolder(dir: string): string {
  const name = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
  if (!name) throw invalidArgument(`cannot derive a project name from the folder ${dir}`, 'give one with the project name option (-p NAME)');
  return name;
}

function checkProject(name: string): string {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
    throw invalidArgument(`invalid project name '${name}'`, 'a project name is lower-case letters, digits, _ and -, starting with a letter or digit');
  }
  return name;
}
